"""Signature schemes and configuration parsing (pure functions)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connectors.webhooks.settings import Settings, SettingsError, parse_carrier_secrets
from connectors.webhooks.signatures import sign_base64, sign_hex, verify_base64, verify_hex

BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"note":"caf\xc3\xa9"}'
)


def test_hex_signature_matches_an_independent_hmac():
    expected = "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert sign_hex("s3cret", BODY) == expected
    assert verify_hex("s3cret", BODY, expected)
    assert verify_hex("s3cret", BODY, expected.upper().replace("SHA256=", "sha256="))


def test_base64_signature_matches_an_independent_hmac():
    expected = base64.b64encode(hmac.new(b"s3cret", BODY, hashlib.sha256).digest()).decode()
    assert sign_base64("s3cret", BODY) == expected
    assert verify_base64("s3cret", BODY, expected)


def test_reserialised_body_does_not_verify():
    signature_hex = sign_hex("s3cret", BODY)
    signature_b64 = sign_base64("s3cret", BODY)
    same_value = json.dumps(json.loads(BODY)).encode()  # ", " / ": " spacing, \u00e9 escape
    assert json.loads(same_value) == json.loads(BODY) and same_value != BODY
    assert not verify_hex("s3cret", same_value, signature_hex)
    assert not verify_base64("s3cret", same_value, signature_b64)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "sha256=zz", "sha256=" + "0" * 64],
)
def test_malformed_or_wrong_hex_headers_fail(header):
    assert not verify_hex("s3cret", BODY, header)


@pytest.mark.parametrize("header", [None, "", "not base64!", sign_hex("s3cret", BODY)])
def test_malformed_base64_headers_fail(header):
    assert not verify_base64("s3cret", BODY, header)


def test_wrong_or_empty_secret_fails():
    assert not verify_hex("other", BODY, sign_hex("s3cret", BODY))
    assert not verify_hex("", BODY, sign_hex("", BODY))
    assert not verify_base64("", BODY, sign_base64("", BODY))


def test_carrier_secrets_parse():
    assert parse_carrier_secrets(" Ameex=a=1 , ozon_express=b,") == {
        "ameex": "a=1",
        "ozon_express": "b",
    }
    assert parse_carrier_secrets("") == {}


@pytest.mark.parametrize("raw", ["ameex", "ameex=", "../x=s", "ameex=a,ameex=b"])
def test_bad_carrier_secrets_are_refused_without_echoing_secrets(raw):
    with pytest.raises(SettingsError) as error:
        parse_carrier_secrets(raw)
    assert "COD360_CARRIER_SECRETS" in str(error.value)
    assert "=a" not in str(error.value) and "=b" not in str(error.value)


def test_settings_from_env_and_repr_hides_secrets(tmp_path):
    env = {
        "COD360_LANDING_DIR": str(tmp_path),
        "COD360_WHATSAPP_APP_SECRET": "meta-secret-value",
        "COD360_CARRIER_SECRETS": "ameex=carrier-secret-value",
        "COD360_WEBHOOK_ROTATE_SECONDS": "2.5",
        "COD360_WEBHOOK_MAX_BODY_BYTES": "1000",
    }
    settings = Settings.from_env(env)
    assert settings.landing_dir == tmp_path
    assert settings.rotate_seconds == 2.5 and settings.max_body_bytes == 1000
    assert settings.enabled_endpoints()["whatsapp"] and not settings.enabled_endpoints()["shopify"]
    assert "secret-value" not in repr(settings)
    assert Settings.from_env(env, landing_dir="elsewhere").landing_dir.name == "elsewhere"
    with pytest.raises(SettingsError, match="COD360_WEBHOOK_ROTATE_BYTES"):
        Settings.from_env({"COD360_WEBHOOK_ROTATE_BYTES": "0"})
