// Scanner bursts. A keyboard-wedge scanner "types" a whole code in a few milliseconds and ends it with Enter
// (or Tab). Whatever has the focus, such a burst is a scan: what it typed into a field is taken out again and
// the code goes to the scan path, so a code never becomes an override reason, a void reason or a search.

// A person leaves 100-300 ms between keys; a scanner 1-20 ms. 80 ms leaves room for a busy tablet.
export const MAX_GAP_MS = 80;
// The shortest code the chair reads is a GTIN-8.
export const MIN_LENGTH = 6;
// A burst carrying a GS separator but no Enter (a scanner set up without a suffix) ends after this pause.
export const IDLE_END_MS = 150;
// Keys this close together come from a machine; once three have, a pause up to STALL_MS (a busy tablet, a
// garbage collection) does not split the burst: no person types three keys within 20 ms.
const MACHINE_GAP_MS = 20;
const STALL_MS = 400;
export const GS = "\x1d";

const MODIFIERS = new Set(["Shift", "Control", "Alt", "AltGraph", "CapsLock", "Meta", "NumLock"]);

function editable(node) {
  if (node instanceof HTMLTextAreaElement) return true;
  return node instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit", "reset", "file"].includes(node.type);
}

function snapshot(node) {
  return { value: node.value, start: node.selectionStart, end: node.selectionEnd };
}

/**
 * Watch the whole document for scanner bursts and hand each one to `onBurst(text)`.
 *
 * `fields()` names the inputs a burst's characters may have reached besides the focused one (the scan input,
 * which the chair focuses on a stray keystroke): they are put back as they were when the burst began.
 */
export function watchForBursts({ onBurst, fields = () => [] }) {
  let burst = null;
  let expectInput = null;
  let idleTimer = null;

  function continues(at) {
    const gap = at - burst.last;
    return gap <= MAX_GAP_MS || (burst.machine >= 3 && gap <= STALL_MS);
  }

  function note(char, at, target) {
    if (!burst || !continues(at)) {
      burst = { text: "", first: at, last: at, machine: 0, snapshots: new Map() };
      for (const node of fields()) if (node) burst.snapshots.set(node, snapshot(node));
    } else if (at - burst.last <= MACHINE_GAP_MS) {
      burst.machine += 1;
    }
    if (editable(target) && !burst.snapshots.has(target)) burst.snapshots.set(target, snapshot(target));
    burst.text += char;
    burst.last = at;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(endIfIdle, burst.machine >= 3 ? STALL_MS : IDLE_END_MS);
  }

  function endIfIdle() {
    if (burst && burst.text.includes(GS) && burst.text.length >= MIN_LENGTH) finish();
    else burst = null;
  }

  function finish() {
    clearTimeout(idleTimer);
    const { text, snapshots } = burst;
    burst = null;
    for (const [node, saved] of snapshots) {
      node.value = saved.value;
      try {
        if (saved.start !== null) node.setSelectionRange(saved.start, saved.end);
      } catch {
        // Some input types (email, number) have no selection to put back.
      }
    }
    onBurst(text);
  }

  window.addEventListener(
    "keydown",
    (event) => {
      if (event.isComposing) return;
      if (event.repeat) {
        burst = null; // a key held down repeats fast, but it is a person
        return;
      }
      let char = null;
      if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) char = event.key;
      else if (event.ctrlKey && !event.metaKey && (event.key === "]" || event.code === "BracketRight")) {
        char = GS; // many scanners send the GS1 separator as Ctrl+]
        event.preventDefault();
      }
      if (char !== null) {
        expectInput = char;
        note(char, event.timeStamp, event.target);
        return;
      }
      if (MODIFIERS.has(event.key)) return;
      const ending = event.key === "Enter" || event.key === "Tab";
      if (ending && burst && continues(event.timeStamp) && burst.text.length >= MIN_LENGTH) {
        event.preventDefault();
        event.stopImmediatePropagation();
        finish();
        return;
      }
      burst = null; // any other key is a person editing
    },
    true,
  );

  // A character that arrives without a key (a GS sent as text by an emulated keyboard) still belongs to the
  // burst. Several characters in one insertion are a paste, an autofill or a word from an on-screen keyboard's
  // suggestions: a person, never a scanner, which types key by key.
  window.addEventListener(
    "beforeinput",
    (event) => {
      if (!event.inputType.startsWith("insert")) return;
      const data = event.data || "";
      if (expectInput !== null && data === expectInput) {
        expectInput = null;
        return;
      }
      expectInput = null;
      if (event.inputType === "insertText" && [...data].length === 1) note(data, event.timeStamp, event.target);
      else burst = null;
    },
    true,
  );
}

/** Whether typed text looks like a code rather than words (mirrors the service's check on override reasons). */
export function looksLikeCode(text) {
  const value = text.trim();
  if (/[\x00-\x1f\x7f]/.test(text)) return true;
  if (/^\][A-Za-z][0-9]/.test(value)) return true;
  if (/^\(\d{2,4}\)/.test(value)) return true;
  if (/^https?:\/\/\S+\/(01|gtin|00|414|8004)\/\S+/i.test(value)) return true;
  return !/\s/.test(value) && value.length >= 8 && /^[0-9A-Z]+$/.test(value);
}
