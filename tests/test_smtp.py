"""SmtpSender against a real SMTP server (aiosmtpd, via sandbox.smtp_capture)."""

from __future__ import annotations

import email
import email.policy
import io
import json
from email.generator import BytesGenerator
from pathlib import Path

import pytest

from connectors.errors import ConnectorError
from connectors.smtp import SmtpError, SmtpRecipientsRefused, SmtpSender, build_message
from sandbox.http_server import free_port
from sandbox.smtp_capture import SmtpCapture

# The capture server allows AUTH without TLS on loopback; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SUBJECT = "Еженедельный отчёт: «Ромашка» — неделя 47"
TEXT = "Добрый день!\nЗа неделю закрыто 12 задач.\n.\nA line that is only a dot, above.\n"
HTML = "<p>Добрый день!</p><p>За неделю закрыто <b>12</b> задач.</p>"


def status_message(*, to: list[str] | None = None, headers: dict[str, str] | None = None):
    return build_message(
        from_addr="Agency <reports@agency.example>",
        to=to or ["ceo@romashka.example", "Анна <anna@romashka.example>"],
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        message_id="weekly.romashka.2026-W47@agency.example",
        headers=headers,
    )


@pytest.fixture
def capture(tmp_path: Path):
    with SmtpCapture(tmp_path / "mail", refuse={"gone@romashka.example"}) as server:
        yield server


def saved(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


def index(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "index.jsonl").read_text().splitlines()]


def test_a_message_arrives_intact(capture: SmtpCapture) -> None:
    message = status_message()
    SmtpSender("127.0.0.1", capture.port, timeout=5).send(message)

    (path,) = saved(capture.out_dir)
    assert path.name == "0001-weekly.romashka.2026-W47@agency.example.eml"
    received = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert received["Subject"] == SUBJECT
    assert received["Message-ID"] == "<weekly.romashka.2026-W47@agency.example>"
    assert [a.addr_spec for a in received["To"].addresses] == [
        "ceo@romashka.example",
        "anna@romashka.example",
    ]
    assert received.get_content_type() == "multipart/alternative"
    assert received.get_body(("plain",)).get_content() == TEXT
    assert received.get_body(("html",)).get_content().strip() == HTML
    # Byte for byte what the client transmitted (dot-stuffing undone).
    sent = io.BytesIO()
    BytesGenerator(sent, policy=message.policy).flatten(message, linesep="\r\n")
    assert path.read_bytes() == sent.getvalue()
    assert index(capture.out_dir) == [
        {
            "file": path.name,
            "mail_from": "reports@agency.example",
            "rcpt_tos": ["ceo@romashka.example", "anna@romashka.example"],
            "received_at": index(capture.out_dir)[0]["received_at"],
        }
    ]


def test_bcc_is_in_the_envelope_only(capture: SmtpCapture) -> None:
    message = status_message(headers={"Bcc": "archive@agency.example"})
    SmtpSender("127.0.0.1", capture.port, timeout=5).send(message)
    (entry,) = index(capture.out_dir)
    assert entry["rcpt_tos"][-1] == "archive@agency.example"
    assert b"archive@agency.example" not in (capture.out_dir / entry["file"]).read_bytes()


def test_build_message_is_deterministic_given_id_and_date() -> None:
    fixed = {"Date": "Mon, 23 Nov 2026 08:00:00 +0000"}
    first, again = status_message(headers=fixed), status_message(headers=fixed)
    assert first.as_bytes() == again.as_bytes()
    assert first["Date"] == fixed["Date"] and len(first.get_all("Date")) == 1
    assert all(byte < 128 for byte in first.as_bytes()), "7-bit clean for any relay"


def test_a_refused_recipient_is_a_clear_error(capture: SmtpCapture) -> None:
    sender = SmtpSender("127.0.0.1", capture.port, timeout=5)
    with pytest.raises(SmtpRecipientsRefused) as refused:
        sender.send(status_message(to=["gone@romashka.example"]))
    assert isinstance(refused.value, ConnectorError)
    assert f"127.0.0.1:{capture.port}" in str(refused.value)
    assert "gone@romashka.example (550" in str(refused.value)
    assert saved(capture.out_dir) == []

    # Accepted in part: the message has left, so it is not an error to retry on.
    refused_in_part = sender.send(
        status_message(to=["ceo@romashka.example", "gone@romashka.example"])
    )
    assert set(refused_in_part) == {"gone@romashka.example"}
    assert [e["rcpt_tos"] for e in index(capture.out_dir)] == [["ceo@romashka.example"]]


def test_a_closed_port_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(SmtpError) as failed:
        SmtpSender("127.0.0.1", port, timeout=2).send(status_message())
    message = str(failed.value)
    assert f"SMTP 127.0.0.1:{port} could not send" in message
    assert "ceo@romashka.example" in message and "Connection refused" in message


def test_login_is_used_and_the_password_never_shows(tmp_path: Path) -> None:
    secret = "s3cr3t-pa55"
    with SmtpCapture(tmp_path / "auth", login=("reports", secret)) as server:
        SmtpSender("127.0.0.1", server.port, username="reports", password=secret).send(
            status_message()
        )
        assert len(saved(server.out_dir)) == 1

        wrong = SmtpSender("127.0.0.1", server.port, username="reports", password="nope-" + secret)
        with pytest.raises(SmtpError, match="rejected the login of 'reports'") as failed:
            wrong.send(status_message())
        assert secret not in str(failed.value) and failed.value.__cause__ is None
        assert secret not in repr(wrong)

        anonymous = SmtpSender("127.0.0.1", server.port)
        with pytest.raises(SmtpError, match="530"):
            anonymous.send(status_message())
    assert len(saved(tmp_path / "auth")) == 1


def test_starttls_against_a_server_without_it_fails_clearly(capture: SmtpCapture) -> None:
    with pytest.raises(SmtpError, match="STARTTLS"):
        SmtpSender("127.0.0.1", capture.port, starttls=True, timeout=5).send(status_message())


def test_numbering_continues_after_a_restart(tmp_path: Path) -> None:
    for _ in range(2):
        with SmtpCapture(tmp_path / "mail") as server:
            SmtpSender("127.0.0.1", server.port, timeout=5).send(status_message())
    assert [p.name[:5] for p in saved(tmp_path / "mail")] == ["0001-", "0002-"]
    assert [e["file"][:5] for e in index(tmp_path / "mail")] == ["0001-", "0002-"]


@pytest.mark.parametrize(
    "subject",
    [
        "Зоряне Небо Івент: звіт за місяць, листопад 2026",
        "Atlas Robotics Inc.: отчёт за месяц, ноябрь 2026",
        "Кавовий дім «Левада»: звіт за тиждень 2026-W47 — і довгий хвіст, що переноситься "
        "кілька разів, щоб жоден пробіл не загубився між словами",
    ],
)
def test_a_long_non_ascii_subject_arrives_with_every_space(
    capture: SmtpCapture, subject: str
) -> None:
    message = build_message(
        from_addr="am@agency.example",
        to=["ceo@romashka.example"],
        subject=subject,
        text=TEXT,
        html=HTML,
        message_id="monthly.romashka.2026-11@agency.example",
    )
    assert message["Subject"] == subject
    SmtpSender("127.0.0.1", capture.port, timeout=5).send(message)
    (path,) = saved(capture.out_dir)
    raw = path.read_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert received["Subject"] == subject
