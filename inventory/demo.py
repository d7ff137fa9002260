"""The demo clinic: two brands, ampoule products, two rooms, lots, clients with allergies and past sessions."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from inventory import clock, db
from inventory.domain.gs1 import format_element_string
from inventory.domain.labelcode import mod10_check_digit
from inventory.domain.models import Actor
from inventory.services import auth, catalog, clinical, receiving, scanning

STATE_DIR = Path(os.environ.get("INVENTORY_STATE_DIR", ".inventory"))


def _gtin(company: str, item: int) -> str:
    body = f"0{company}{item:05d}"
    return body + str(mod10_check_digit(body))


PRODUCTS = [
    # brand, name, ingredients, storage, unit GTIN item, box units
    ("SRS System", "Vitamin C Glow 5 ml", ["Ascorbic acid", "Hyaluronic acid", "Ferulic acid"], "room", 101, 10),
    ("SRS System", "Hyaluron 2% Hydra 5 ml", ["Hyaluronic acid", "Panthenol"], "room", 102, 10),
    (
        "SRS System",
        "Plant Stem Cell Revive 5 ml",
        ["Malus domestica extract", "Centella asiatica", "Arnica"],
        "fridge",
        103,
        5,
    ),
    ("SRS System", "Acne Clear Peptide 5 ml", ["Niacinamide", "Azelaic acid", "Zinc PCA"], "room", 104, 10),
    ("Filorga", "NCTF 135HA 3 ml", ["Hyaluronic acid", "Vitamin A", "Vitamin C", "Glutathione"], "room", 201, 5),
    ("Filorga", "NCTF Boost 3 ml", ["Hyaluronic acid", "Amino acids", "Coenzymes"], "room", 202, 5),
    ("Filorga", "Lidocaine Comfort Cocktail 2 ml", ["Hyaluronic acid", "Lidocaine hydrochloride"], "fridge", 203, 10),
]


async def load() -> bool:
    """Load the demo clinic once; returns False when it is already there."""
    await db.start_pool(min_size=1, max_size=4)
    try:
        async with db.connection() as conn:
            if await conn.fetchval("SELECT 1 FROM brand WHERE lower(name) = 'srs system'"):
                return False
        await _load()
        return True
    finally:
        await db.close_pool()


async def _load() -> None:
    credentials = []
    users: dict[str, Actor] = {}
    for role in ("admin", "manager", "staff"):
        email = f"{role}@demo.clinic"
        password = secrets.token_urlsafe(12)
        user = await auth.create_user(actor=None, email=email, role=role, password=password, full_name=f"Demo {role}")
        users[role] = Actor(id=user.id, role=role, email=email)
        credentials.append(f"{email}  {password}  ({role})")
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    creds_file = STATE_DIR / "demo-credentials.txt"
    creds_file.write_text("\n".join(credentials) + "\n")
    creds_file.chmod(0o600)
    print("inventory: demo users (also in", creds_file, ")\n  " + "\n  ".join(credentials))

    manager, staff = users["manager"], users["staff"]
    brands = {name: await catalog.create_brand(actor=manager, name=name) for name in ("SRS System", "Filorga")}
    paris = await catalog.create_location(actor=manager, name="Paris - Treatment room 1", timezone="Europe/Paris")
    lyon = await catalog.create_location(actor=manager, name="Lyon - Treatment room", timezone="Europe/Paris")
    products = []
    for brand, name, ingredients, storage, item, box in PRODUCTS:
        company = "3760001" if brand == "SRS System" else "3401528"
        product = await catalog.create_product(
            actor=manager,
            brand_id=brands[brand]["id"],
            name=name,
            gtin=_gtin(company, item),
            packs=[(_gtin(company, item + 500), box)],
            ingredients=ingredients,
            storage=storage,
        )
        products.append(product)
        for location in (paris, lyon):
            await catalog.set_rule(
                actor=manager,
                location_id=location["id"],
                product_id=product["id"],
                # Lyon runs lean on the first three products, so a manager sees live reorder alerts.
                reorder_point=8 if location is lyon and len(products) <= 3 else 4,
                par_level=20 if location is lyon and len(products) <= 3 else 12,
                lead_time_days=7,
            )

    today = clock.today_in("Europe/Paris")  # both demo rooms are in France
    lots_by_product = []
    for index, product in enumerate(products):
        barcode = format_element_string(
            gtin=product["gtin"],
            expiry=today + timedelta(days=90 + 45 * index),
            lot_number=f"{'SR' if index < 4 else 'FL'}{24 + index:02d}{index:02d}A",
        )
        receipt = await receiving.receive(
            actor=staff,
            location_id=paris["id"],
            supplier="Meso Distribution SARL",
            reference=f"BL-2026-{index:03d}",
            lines=[
                receiving.LineIn(quantity=12, barcode=barcode),
                receiving.LineIn(
                    quantity=3,
                    product_id=product["id"],
                    lot_number=f"K{index}SOON",
                    expiry_date=today + timedelta(days=12 + index),
                ),
            ],
        )
        lots_by_product.append(receipt["lines"][0]["lot"])
        await receiving.receive(
            actor=staff,
            location_id=lyon["id"],
            supplier="Meso Distribution SARL",
            reference=f"BL-L-{index:03d}",
            lines=[receiving.LineIn(quantity=6, barcode=barcode)],
        )
    # One lot received last spring that has expired on the shelf since.
    clock.shift(timedelta(days=-200))
    try:
        await receiving.receive(
            actor=manager,
            location_id=paris["id"],
            supplier="Meso Distribution SARL",
            reference="BL-OLD-1",
            lines=[
                receiving.LineIn(
                    quantity=2,
                    product_id=products[1]["id"],
                    lot_number="OLD0425",
                    expiry_date=today - timedelta(days=5),
                )
            ],
        )
    finally:
        clock.reset()

    people: list[tuple[str, str | None, str, list[str]]] = [
        ("Camille Martin", "camille.martin@example.com", "+33 6 11 22 33 44", ["Lidocaine"]),
        ("Léa Bernard", "lea.bernard@example.com", "+33 6 22 33 44 55", []),
        ("Sofia Rossi", "sofia.rossi@example.com", "+39 333 123 4567", ["Arnica", "Niacinamide"]),
        ("Nadia Haddad", None, "+33 7 55 66 77 88", []),
    ]
    for number, (full_name, contact_email, phone, allergies) in enumerate(people):
        client = await clinical.create_client(
            actor=staff, full_name=full_name, email=contact_email, phone=phone, allergies=allergies
        )
        await clinical.create_course(
            actor=staff,
            client_id=client["id"],
            location_id=paris["id"],
            treatment="Glow mesotherapy course",
            start_date=today + timedelta(days=number * 3),
            sessions=4,
            interval_days=21,
            products=[(products[0]["id"], 1), (products[4]["id"], 1)],
        )
        past = await clinical.create_session(
            actor=staff, client_id=client["id"], location_id=paris["id"], treatment="Glow mesotherapy"
        )
        for lot in (lots_by_product[0], lots_by_product[4 if number % 2 else 1]):
            product = next(p for p in products if p["id"] == lot["product_id"])
            code = format_element_string(gtin=product["gtin"], expiry=lot["expiry_date"], lot_number=lot["lot_number"])
            await scanning.record_use(actor=staff, session_id=past["id"], barcode=code)
        await clinical.close_session(actor=staff, session_id=past["id"])
