"""``--lang`` on ``allowlist add`` and ``update`` and the import's ``lang`` column: what the
operator sees, the exit codes, and the ``lang`` attribute DynamoDB stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shiftsms.aws.dynamo import from_item
from tests.clitools import invoke, table_rows
from tests.conftest import Deployed

ANA = "+447700900123"
BEN = "+447700900456"
UNKNOWN = "Error: 'fr' is not a language shiftsms speaks (en, es, pl)\n"


def stored(deployed: Deployed) -> dict[str, dict[str, Any]]:
    items = deployed.dynamodb.scan(TableName=deployed.outputs["StaffTableName"])["Items"]
    return {i["phone"]["S"]: from_item(i) for i in items}


def test_add_with_a_language_stores_lang_and_lists_it(deployed: Deployed) -> None:
    result = invoke("allowlist", "add", ANA, "--name", "Ana", "--lang", "ES")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Added {ANA} (Ana) to the allow list [language: es].\n"
    assert stored(deployed)[ANA]["lang"] == "es"
    assert json.loads(invoke("allowlist", "list", "--json").stdout)[0]["language"] == "es"
    rows = table_rows(invoke("allowlist", "list").stdout)
    assert rows[1][rows[0].index("Language")] == "es"


def test_add_without_a_language_stores_none_and_means_english(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA).exit_code == 0
    assert "lang" not in stored(deployed)[ANA]
    assert json.loads(invoke("allowlist", "list", "--json").stdout)[0]["language"] == "en"


def test_add_again_with_a_language_changes_only_it(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--role", "RN").exit_code == 0
    result = invoke("allowlist", "add", ANA, "--lang", "pl")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): language en -> pl.\n"
    item = stored(deployed)[ANA]
    assert (item["lang"], item["name"], item["roles"]) == ("pl", "Ana", {"RN"})


def test_update_language_then_back_to_english(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--lang", "es").exit_code == 0
    result = invoke("allowlist", "update", ANA, "--lang", "pl")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): language es -> pl.\n"
    assert stored(deployed)[ANA]["lang"] == "pl"
    result = invoke("allowlist", "update", ANA, "--lang", "en")
    assert result.stdout == f"Updated {ANA} (Ana): language pl -> en.\n"
    assert "lang" not in stored(deployed)[ANA]
    result = invoke("allowlist", "update", ANA, "--lang", "en")
    assert result.stdout == f"{ANA} (Ana) already has those values; nothing changed.\n"


def test_update_of_a_language_typed_by_hand(deployed: Deployed) -> None:
    table = deployed.outputs["StaffTableName"]
    deployed.dynamodb.put_item(
        TableName=table, Item={"phone": {"S": ANA}, "name": {"S": "Ana"}, "lang": {"S": "es"}}
    )
    result = invoke("allowlist", "update", ANA, "--lang", "pl")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): language es -> pl.\n"
    assert stored(deployed)[ANA]["lang"] == "pl"


@pytest.mark.parametrize("command", ["add", "update"])
def test_an_unknown_language_is_a_usage_error_and_nothing_changes(
    deployed: Deployed, command: str
) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    before = stored(deployed)
    result = invoke("allowlist", command, ANA, "--lang", "fr")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == UNKNOWN
    assert stored(deployed) == before
    result = invoke("allowlist", "add", BEN, "--lang", "fr")
    assert result.exit_code == 2
    assert BEN not in stored(deployed)


def test_import_lang_column(deployed: Deployed, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(f"phone,name,roles,lang\n{ANA},Ana,RN,es\n{BEN},Ben,,\n", encoding="utf-8")
    result = invoke("allowlist", "import", str(path))
    assert result.exit_code == 0, result.output
    items = stored(deployed)
    assert items[ANA]["lang"] == "es"
    assert "lang" not in items[BEN]


def test_import_refuses_an_unknown_language_by_line(deployed: Deployed, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(f"phone,name,lang\n{ANA},Ana,pl\n{BEN},Ben,fr\n", encoding="utf-8")
    result = invoke("allowlist", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 1 bad row: nothing was imported",
        "  line 3: 'fr' is not a language shiftsms speaks (en, es, pl)",
    ]
    assert stored(deployed) == {}


def test_add_help_names_the_languages() -> None:
    result = invoke("allowlist", "add", "--help")
    assert result.exit_code == 0
    assert "es (Español)" in result.stdout and "pl (Polski)" in result.stdout
