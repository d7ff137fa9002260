"""Routes for auth, users, catalog, receiving, stock and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody, QueryParameter

from inventory.api import schemas as s
from inventory.api.idempotent import IdempotencyKey, respond
from inventory.api.params import ActorRequest, Limit, Offset, OptId, PathId
from inventory.api.security import admin, manager, staff
from inventory.services import audit_log, auth, catalog, receiving, stock

# Search text without control characters: a NUL would otherwise reach PostgreSQL and fail there.
SearchText = Annotated[str | None, QueryParameter(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]


class AuthController(Controller):
    """Sign-in and sign-out."""

    path = "/api/auth"
    tags = ["auth"]

    @post("/token", operation_id="issueToken", status_code=200, security=[])
    async def token(self, request: Request[Any, Any, Any], data: JSONBody[s.TokenIn]) -> s.TokenOut:
        """Exchange e-mail and password for a bearer token."""
        result = await auth.issue_token(
            settings=request.app.state.settings,
            email=data.email.strip(),
            password=data.password,
            # The peer as the server sees it; behind a proxy, run uvicorn with --proxy-headers for the real one.
            client=request.client.host if request.client else None,
        )
        return s.to(s.TokenOut, result)

    @post("/refresh", operation_id="refreshToken", status_code=200, guards=[staff])
    async def refresh(self, request: ActorRequest) -> s.TokenOut:
        """Exchange a valid bearer token for a fresh one of the same sign-in, until the sign-in's maximum age."""
        result = await auth.refresh_token(
            settings=request.app.state.settings, actor=request.user, token=str(request.auth)
        )
        return s.to(s.TokenOut, result)

    @post("/logout", operation_id="revokeToken", status_code=204, guards=[staff])
    async def logout(self, request: ActorRequest) -> None:
        """Revoke the bearer token used for this request."""
        await auth.revoke_token(settings=request.app.state.settings, actor=request.user, token=str(request.auth))


class UserController(Controller):
    """Users (admin)."""

    path = "/api/users"
    tags = ["users"]
    guards = [admin]

    @post("/", operation_id="createUser")
    async def create(self, request: ActorRequest, data: JSONBody[s.UserIn]) -> s.UserOut:
        """Create a user."""
        user = await auth.create_user(
            actor=request.user, email=data.email, role=data.role, password=data.password, full_name=data.full_name
        )
        return s.to(s.UserOut, user)

    @get("/", operation_id="listUsers")
    async def list_users(self) -> list[s.UserOut]:
        """All users, with their role and whether they are active."""
        return s.to(list[s.UserOut], await auth.list_users())

    @patch("/{user_id:int}", operation_id="updateUser")
    async def update(self, request: ActorRequest, user_id: PathId, data: JSONBody[s.UserPatchIn]) -> s.UserOut:
        """Change a user's role or deactivate (or reactivate) them; a deactivated user's tokens stop at once."""
        user = await auth.update_user(actor=request.user, user_id=user_id, role=data.role, active=data.active)
        return s.to(s.UserOut, user)

    @post("/{user_id:int}/password", operation_id="resetUserPassword", status_code=204)
    async def reset_password(self, request: ActorRequest, user_id: PathId, data: JSONBody[s.PasswordIn]) -> None:
        """Set a user's password; the user's existing tokens stop working."""
        await auth.reset_password(actor=request.user, user_id=user_id, password=data.password)


class CatalogController(Controller):
    """Brands, products, locations and stock rules."""

    path = "/api"
    tags = ["catalog"]
    guards = [staff]

    @post("/brands", operation_id="createBrand", guards=[manager])
    async def create_brand(self, request: ActorRequest, data: JSONBody[s.BrandIn]) -> s.BrandOut:
        """Create a brand."""
        return s.to(s.BrandOut, await catalog.create_brand(actor=request.user, name=data.name))

    @get("/brands", operation_id="listBrands")
    async def list_brands(self) -> list[s.BrandOut]:
        """All brands."""
        return s.to(list[s.BrandOut], await catalog.list_brands())

    @post("/products", operation_id="createProduct", guards=[manager])
    async def create_product(self, request: ActorRequest, data: JSONBody[s.ProductIn]) -> s.ProductOut:
        """Create a product with its unit GTIN and box GTINs."""
        product = await catalog.create_product(
            actor=request.user,
            brand_id=data.brand_id,
            name=data.name,
            gtin=data.gtin,
            packs=[(p.gtin, p.units) for p in data.packs],
            ingredients=list(data.ingredients),
            storage=data.storage,
            implant=data.implant,
            unit=data.unit,
            container_quantity=data.container_quantity,
            in_use_hours=data.in_use_hours,
        )
        return s.to(s.ProductOut, product)

    @get("/products", operation_id="listProducts")
    async def list_products(
        self,
        brand_id: OptId = None,
        q: SearchText = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[s.ProductOut]:
        """Products, filtered by brand or a name fragment."""
        products = await catalog.list_products(brand_id=brand_id, query=q, limit=limit, offset=offset)
        return s.to(list[s.ProductOut], products)

    @get("/products/{product_id:int}", operation_id="getProduct")
    async def get_product(self, product_id: PathId) -> s.ProductOut:
        """One product."""
        return s.to(s.ProductOut, await catalog.get_product(product_id))

    @patch(
        "/products/{product_id:int}",
        operation_id="updateProduct",
        guards=[manager],
        status_code=200,
        responses={200: ResponseSpec(s.ProductOut)},
    )
    async def update_product(
        self,
        request: ActorRequest,
        product_id: PathId,
        data: JSONBody[s.ProductPatch],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Mark a product as an implant or not."""

        async def make() -> dict[str, Any]:
            return await catalog.update_product(actor=request.user, product_id=product_id, implant=data.implant)

        return await respond(request, idempotency_key, make, s.ProductOut, status=200)

    @post("/locations", operation_id="createLocation", guards=[manager])
    async def create_location(self, request: ActorRequest, data: JSONBody[s.LocationIn]) -> s.LocationOut:
        """Create a location in an IANA time zone (default: the service's INVENTORY_TIMEZONE)."""
        timezone = data.timezone if data.timezone is not None else request.app.state.settings.timezone
        return s.to(s.LocationOut, await catalog.create_location(actor=request.user, name=data.name, timezone=timezone))

    @patch("/locations/{location_id:int}", operation_id="updateLocation", guards=[manager])
    async def update_location(
        self, request: ActorRequest, location_id: PathId, data: JSONBody[s.LocationPatch]
    ) -> s.LocationOut:
        """Rename a location or change its time zone."""
        location = await catalog.update_location(
            actor=request.user, location_id=location_id, name=data.name, timezone=data.timezone
        )
        return s.to(s.LocationOut, location)

    @get("/locations", operation_id="listLocations")
    async def list_locations(self) -> list[s.LocationOut]:
        """All locations."""
        return s.to(list[s.LocationOut], await catalog.list_locations())

    @put("/locations/{location_id:int}/rules/{product_id:int}", operation_id="setStockRule", guards=[manager])
    async def set_rule(
        self, request: ActorRequest, location_id: PathId, product_id: PathId, data: JSONBody[s.RuleIn]
    ) -> s.RuleOut:
        """Set the reorder point, par level and lead time of a product at a location."""
        rule = await catalog.set_rule(
            actor=request.user,
            location_id=location_id,
            product_id=product_id,
            reorder_point=data.reorder_point,
            par_level=data.par_level,
            lead_time_days=data.lead_time_days,
        )
        return s.to(s.RuleOut, rule)

    @get("/rules", operation_id="listStockRules")
    async def list_rules(self, location_id: OptId = None) -> list[s.RuleOut]:
        """Stock rules."""
        return s.to(list[s.RuleOut], await catalog.list_rules(location_id=location_id))


class StockController(Controller):
    """Receiving, lots, stock and the manager's stock changes."""

    path = "/api"
    tags = ["stock"]
    guards = [staff]

    @post("/receipts", operation_id="createReceipt", responses={201: ResponseSpec(s.ReceiptOut)})
    async def create_receipt(
        self, request: ActorRequest, data: JSONBody[s.ReceiptIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Receive a delivery, by barcode or by fields, all lines or none."""
        lines = [
            receiving.LineIn(
                quantity=line.quantity,
                barcode=line.barcode,
                product_id=line.product_id,
                lot_number=line.lot_number,
                expiry_date=line.expiry_date,
            )
            for line in data.lines
        ]

        async def make() -> dict[str, Any]:
            result = await receiving.receive(
                actor=request.user,
                location_id=data.location_id,
                supplier=data.supplier,
                reference=data.reference,
                lines=lines,
                purchase_order_id=data.purchase_order_id,
            )
            for line in result["lines"]:
                line["label_url"] = f"/api/lots/{line['lot']['id']}/label?format=png"
            return result

        return await respond(request, idempotency_key, make, s.ReceiptOut)

    @get("/stock", operation_id="listStock")
    async def list_stock(
        self,
        location_id: OptId = None,
        product_id: OptId = None,
        lot_id: OptId = None,
        include_empty: FromQuery[bool] = False,
    ) -> s.StockOut:
        """On-hand per lot and location."""
        items = await stock.list_stock(
            location_id=location_id, product_id=product_id, lot_id=lot_id, include_empty=include_empty
        )
        return s.to(s.StockOut, {"items": items})

    @get("/lots", operation_id="listLots")
    async def list_lots(
        self,
        product_id: OptId = None,
        status: Annotated[str | None, QueryParameter(pattern="^(active|quarantined|recalled)$")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[s.LotOut]:
        """Lots, filtered by product and status."""
        lots = await stock.list_lots(product_id=product_id, status=status, limit=limit, offset=offset)
        return s.to(list[s.LotOut], lots)

    @get("/lots/{lot_id:int}", operation_id="getLot")
    async def get_lot(self, lot_id: PathId) -> s.LotDetailOut:
        """One lot with its stock per location."""
        return s.to(s.LotDetailOut, await stock.get_lot(lot_id))

    @get("/movements", operation_id="listMovements", guards=[manager])
    async def movements(
        self, lot_id: OptId = None, location_id: OptId = None, limit: Limit = 200
    ) -> list[s.MovementOut]:
        """The stock ledger, newest first."""
        rows = await stock.movements(lot_id=lot_id, location_id=location_id, limit=limit)
        return s.to(list[s.MovementOut], rows)

    @post("/transfers", operation_id="createTransfer", guards=[manager], responses={201: ResponseSpec(s.TransferOut)})
    async def transfer(
        self, request: ActorRequest, data: JSONBody[s.TransferIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Move units of a lot between locations."""
        return await respond(
            request,
            idempotency_key,
            lambda: stock.transfer(
                actor=request.user,
                lot_id=data.lot_id,
                from_location_id=data.from_location_id,
                to_location_id=data.to_location_id,
                quantity=data.quantity,
                reason=data.reason,
            ),
            s.TransferOut,
        )

    @post(
        "/adjustments",
        operation_id="createAdjustment",
        guards=[manager],
        responses={201: ResponseSpec(s.AdjustmentOut)},
    )
    async def adjust(
        self, request: ActorRequest, data: JSONBody[s.AdjustmentIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Correct on-hand to a count or by a delta, with a reason."""
        return await respond(
            request,
            idempotency_key,
            lambda: stock.adjust(
                actor=request.user,
                lot_id=data.lot_id,
                location_id=data.location_id,
                counted=data.counted,
                delta=data.delta,
                reason=data.reason,
            ),
            s.AdjustmentOut,
        )

    @post("/disposals", operation_id="createDisposal", guards=[manager], responses={201: ResponseSpec(s.DisposalOut)})
    async def dispose(
        self, request: ActorRequest, data: JSONBody[s.DisposalIn], idempotency_key: IdempotencyKey = None
    ) -> Response[bytes]:
        """Throw away units of a lot, with a reason."""
        return await respond(
            request,
            idempotency_key,
            lambda: stock.dispose(
                actor=request.user,
                lot_id=data.lot_id,
                location_id=data.location_id,
                quantity=data.quantity,
                reason=data.reason,
            ),
            s.DisposalOut,
        )


class AuditController(Controller):
    """The audit log (managers)."""

    path = "/api/audit"
    tags = ["audit"]
    guards = [manager]

    @get("/", operation_id="listAuditEvents")
    async def list_events(
        self,
        entity: Annotated[str | None, QueryParameter(max_length=32, pattern=r"^[A-Za-z0-9_.-]*$")] = None,
        entity_id: OptId = None,
        actor_id: OptId = None,
        before_id: OptId = None,
        limit: Limit = 100,
    ) -> s.Page[s.AuditEventOut]:
        """Audit events, newest first."""
        events = await audit_log.list_events(
            entity=entity, entity_id=entity_id, actor_id=actor_id, before_id=before_id, limit=limit
        )
        return s.Page(items=s.to(list[s.AuditEventOut], events))
