// The product form works as a plain form; this only hides (and disables, so nothing of it is sent) the container
// fields while the product is counted one by one, where they mean nothing. A field there with a message stays shown.

const form = document.getElementById("product-form");
const group = document.getElementById("container-fields");

function follow() {
  if (!form || !group) return;
  const each = form.querySelector('input[name="unit"][value="each"]')?.checked ?? false;
  const refused = group.querySelector('[aria-invalid="true"]') !== null;
  const hide = each && !refused;
  group.hidden = hide;
  group.disabled = hide;
}

form?.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.name === "unit") follow();
});
follow();
