"""Reading a CSV of people: encodings, limits, refusals, the suggested mapping and the per-row report."""
from __future__ import annotations

import pytest

from services.csv_import import (MAX_ROWS, CsvRefused, neutralise, parse, read_mapping, suggest_mapping,
                                 validate_rows)


def test_utf8_with_bom_and_semicolons():
    parsed = parse("\ufeffFirst Name;Surname;E-mail\nZoë;Brontë;zoe@example.com\n".encode("utf-8"))
    assert parsed.header == ["First Name", "Surname", "E-mail"] and parsed.encoding == "UTF-8"
    assert parsed.rows == [["Zoë", "Brontë", "zoe@example.com"]]


def test_excel_windows_encoding_is_read():
    parsed = parse("Name,Email\nRenée Dupré,renee@example.com\n".encode("cp1252"))
    assert parsed.encoding == "Windows-1252" and parsed.rows[0][0] == "Renée Dupré"


def test_mixed_encodings_are_refused_naming_the_lines():
    data = "Name,Email\nZoë Brontë,zoe@example.com\n".encode() + "Renée Dupré,renee@example.com\n".encode("cp1252")
    with pytest.raises(CsvRefused, match=r"mixes text encodings: line 2 is UTF-8 but line 3"):
        parse(data)


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"   \n\n", "empty"), (b"Name,Email\n", "no people"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV"),
    (b'{"people": [1, 2, 3]}', "doesn't look like a CSV of people"),
    (b'Name,Email\n"Ada,ada@example.com\n', "not a readable CSV"),
])
def test_unusable_files_are_refused(data, message):
    with pytest.raises(CsvRefused, match=message):
        parse(data)


def test_row_and_size_limits():
    ok = "Name\n" + "".join(f"P{i}\n" for i in range(MAX_ROWS))
    assert len(parse(ok.encode()).rows) == MAX_ROWS
    too_many = "Name\n" + "".join(f"P{i}\n" for i in range(100_000))
    with pytest.raises(CsvRefused, match=r"has 100,000 rows; the limit is 10,000"):
        parse(too_many.encode())
    with pytest.raises(CsvRefused, match=r"50.0 MB; the limit is 5 MB"):
        parse(b"Name\n" + b"x" * (50 * 1024 * 1024))


def test_mapping_is_suggested_from_headers():
    header = ["Full Name", "Work Email", "LinkedIn Profile", "Job Title", "Organisation", "Mobile", "City", "Notes"]
    m = suggest_mapping(header)
    assert m == {"first_name": None, "last_name": None, "full_name": 0, "email": 1, "linkedin_url": 2,
                 "title": 3, "company": 4, "phone": 5, "location": 6}
    m = suggest_mapping(["first_name", "last_name", "Name", "email"])
    assert (m["first_name"], m["last_name"], m["full_name"], m["email"]) == (0, 1, None, 3)


def test_read_mapping_refuses_a_column_twice_and_no_name():
    header = ["Name", "Email"]
    assert read_mapping({"map-full_name": "0", "map-email": "1"}, header)["email"] == 1
    with pytest.raises(ValueError, match="already used"):
        read_mapping({"map-full_name": "0", "map-email": "0"}, header)
    with pytest.raises(ValueError, match="first names"):
        read_mapping({"map-email": "1"}, header)
    with pytest.raises(ValueError, match="Choose one of the file's columns"):
        read_mapping({"map-full_name": "7"}, header)


def test_report_names_each_problem():
    mapping = {"full_name": 0, "email": 1, "linkedin_url": 2, "company": 3, "phone": 4}
    rows = [
        ["Ada Lovelace", "ada@example.com", "https://www.linkedin.com/in/ada", "Engines", "+44 20 7946 0000"],
        ["", "nobody@example.com", "", "", ""],
        ["Bad Mail", "not-an-email", "", "", ""],
        ["Ada Again", "ADA@example.com", "", "", ""],
        ["Evil", "evil@example.com", "", '=CMD("calc")', ""],
        ["Member", "member@example.com", "", "", ""],
        ["Link", "", "https://example.com/ada", "", ""],
        ["Cher", "", "", "", "-1"],
    ]
    report = validate_rows(rows, mapping, ({"member@example.com"}, set()))
    problems = {r.number: r.problems for r in report.rows}
    assert problems[2] == [] and report.rows[0].profile["first_name"] == "Ada"
    assert report.rows[0].profile["last_name"] == "Lovelace"
    assert problems[3] == ["missing name"]
    assert problems[4] == ["bad email: not-an-email"]
    assert problems[5] == ["duplicate: same person as row 2"]
    assert problems[6] == ["formula: Company would run as a spreadsheet formula"]
    assert problems[7] == ["already a member: already in this campaign"]
    assert problems[8] == ["bad LinkedIn URL: not a linkedin.com/in/ profile"]
    assert problems[9] == [] and report.rows[7].profile["first_name"] == "Cher"   # a phone may start with -
    assert report.counts() == {"missing name": 1, "bad email": 1, "duplicate": 1, "formula": 1,
                               "already a member": 1, "bad LinkedIn URL": 1}


def test_neutralise_quotes_formula_cells():
    assert neutralise('=CMD("calc")') == "'=CMD(\"calc\")"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("+1") == "'+1"
    assert neutralise("Ada") == "Ada" and neutralise(None) == ""
