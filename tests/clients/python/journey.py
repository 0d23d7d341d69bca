"""A partner's journey through the client openapi-python-client generates from Causeway's
served OpenAPI document: authenticated once, typed models in and out, typed errors.

Run by tests/it/generated_clients.rs with the generated package on PYTHONPATH and
CAUSEWAY_URL, APP_ID, APP_TOKEN in the environment. Every check is an assertion; the
last line printed is a JSON object the Rust test verifies against the database.
"""

import json
import os
import time
import uuid

from causeway_api_client import AuthenticatedClient
from causeway_api_client.api.access import create_account_link, grant_account_access, list_account_users
from causeway_api_client.api.onboarding import create_account, create_legal_entity, get_account, get_legal_entity
from causeway_api_client.api.partner import get_branding, get_idm_config, list_sso_events, set_branding, set_idm_config
from causeway_api_client.models import (
    Account,
    AccountCreate,
    AccountLink,
    AccountLinkCreate,
    AccountResource,
    AccountUser,
    AccountUserCreate,
    AccountUserList,
    BrandingBody,
    BrandingView,
    ControllerInput,
    ErrorBody,
    ErrorCode,
    IdmConfigBody,
    IdmConfigView,
    IdmKind,
    LegalEntity,
    LegalEntityCreate,
    LegalEntityResource,
    LinkTarget,
    ReasonCode,
    RequiredClaim,
    Role,
    SsoEventList,
    TermsOfServiceInput,
    TokenEndpointAuthMethod,
)
from causeway_api_client.types import Unset

BASE_URL = os.environ["CAUSEWAY_URL"]
APP_ID = os.environ["APP_ID"]


def client(token: str) -> AuthenticatedClient:
    # What a partner writes once: the token scheme's header, and the other two headers
    # every call carries.
    return AuthenticatedClient(
        base_url=BASE_URL,
        token=token,
        auth_header_name="App-Token",
        prefix="",
        headers={"App-Id": APP_ID, "Api-Version": "3.0"},
    )


partner = client(os.environ["APP_TOKEN"])
key = f"py-{uuid.uuid4()}"

# Create a legal entity, then the same request again: the first answer, marked as a replay.
new_entity = LegalEntityCreate(
    country="US",
    controller=ControllerInput(email="owner@py-shop.example", email_is_verified=True),
    terms_of_service=TermsOfServiceInput(acceptance_time=int(time.time()) - 60, original_ip="203.0.113.7"),
)
first = create_legal_entity.sync_detailed(client=partner, body=new_entity, unique_key=key)
assert first.status_code == 201, first
assert isinstance(first.parsed, LegalEntity), first.parsed
assert first.parsed.resource == LegalEntityResource.LEGAL_ENTITIES
assert "idempotent-replayed" not in first.headers
entity = first.parsed
again = create_legal_entity.sync_detailed(client=partner, body=new_entity, unique_key=key)
assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true", again
assert again.parsed.id == entity.id

read = get_legal_entity.sync(client=partner, id=entity.id)
assert isinstance(read, LegalEntity) and read.controller.email == "owner@py-shop.example", read

# The same key with another body: 409, a typed error naming the key.
conflict = create_legal_entity.sync_detailed(
    client=partner,
    body=LegalEntityCreate(country="FR", controller=ControllerInput(email="owner@py-shop.example")),
    unique_key=key,
)
assert conflict.status_code == 409, conflict
assert isinstance(conflict.parsed, ErrorBody) and conflict.parsed.error_code == ErrorCode.IDEMPOTENCY_CONFLICT
assert conflict.parsed.details[0].reason_code == ReasonCode.KEY_REUSED

# An account; `None` for the optional description means "not set".
account = create_account.sync(client=partner, body=AccountCreate(legal_entity_id=entity.id, name="Py Shop", description=None))
assert isinstance(account, Account) and account.resource == AccountResource.ACCOUNTS, account
assert isinstance(account.description, Unset), account.description
assert get_account.sync(client=partner, id=account.id).name == "Py Shop"

# A validation error, read through the typed error body.
invalid = create_account.sync_detailed(client=partner, body=AccountCreate(legal_entity_id=entity.id, name=" "))
assert invalid.status_code == 400, invalid
assert invalid.parsed.error_code == ErrorCode.INVALID_PARAMS
assert [(d.target, d.reason_code) for d in invalid.parsed.details] == [(["name"], ReasonCode.INVALID_LENGTH)], invalid.parsed

# Another id: 404.
missing = get_account.sync_detailed(client=partner, id=str(uuid.uuid4()))
assert missing.status_code == 404 and missing.parsed.error_code == ErrorCode.NOT_FOUND, missing

# A wrong token: 401, whatever the other headers say.
stranger = get_account.sync_detailed(client=client("cwt_not-the-token"), id=account.id)
assert stranger.status_code == 401 and stranger.parsed.error_code == ErrorCode.NOT_AUTHORIZED, stranger

# Access for a clerk, and the account's users.
granted = grant_account_access.sync_detailed(client=partner, id=account.id, body=AccountUserCreate(email="clerk@py-shop.example", role=Role.MODERATOR))
assert granted.status_code == 201 and isinstance(granted.parsed, AccountUser), granted
users = list_account_users.sync(client=partner, id=account.id)
assert isinstance(users, AccountUserList) and [u.email for u in users.users] == ["clerk@py-shop.example"], users

# A deep link to the business details, typed target in, typed link out.
link = create_account_link.sync_detailed(client=partner, id=account.id, body=AccountLinkCreate(target=LinkTarget.KYC))
assert link.status_code == 201 and isinstance(link.parsed, AccountLink) and "/links/" in link.parsed.url, link

# The Partner API: branding and the IdM configuration, typed modes included.
branding = set_branding.sync(client=partner, body=BrandingBody(display_name="Py Pay", brand_color="#7C3AED", logo_url=None))
assert isinstance(branding, BrandingView) and branding.brand_color == "#7C3AED", branding
assert get_branding.sync(client=partner).display_name == "Py Pay"
idm = set_idm_config.sync(
    client=partner,
    body=IdmConfigBody(
        kind=IdmKind.OIDC,
        issuer="http://127.0.0.1:9/",
        client_id="causeway",
        client_secret="from-the-idm",
        token_endpoint_auth_method=TokenEndpointAuthMethod.CLIENT_SECRET_POST,
        domain="py-shop.example",
        logout_url="https://py-shop.example/signed-out",
        required_claims=[RequiredClaim.EMAIL],
    ),
)
assert isinstance(idm, IdmConfigView) and idm.client_secret_set and idm.config.kind == IdmKind.OIDC, idm
stored = get_idm_config.sync(client=partner)
assert stored.config.token_endpoint_auth_method == TokenEndpointAuthMethod.CLIENT_SECRET_POST
assert stored.config.required_claims == [RequiredClaim.EMAIL]
assert isinstance(list_sso_events.sync(client=partner, limit=5), SsoEventList)

print(json.dumps({"legal_entity_id": str(entity.id), "account_id": str(account.id), "branding": branding.display_name}))
