#!/usr/bin/python3
"""Writes the bad-input corpus under tests/data/bad/ from the project's own good fixtures
(tests/data/good/). The files are committed; run this again only to change the corpus:

    /usr/bin/python3 tests/data/bad/make_corpus.py

Every file written here has a line in cases.tsv saying what moodboost must do with it (see
tests/test_bad_inputs.cpp). Standard library only: the .npy files are assembled byte by byte."""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
GOOD = HERE.parent / "good"


def write(rel, data):
    path = HERE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def sub(text, old, new, count=1):
    assert old in text, old
    return text.replace(old, new, count)


# --- feature JSON -------------------------------------------------------------------------------
doc = (GOOD / "lowlevel.json").read_text()
json_cases = {
    "empty.json": "",
    "whitespace.json": " \n\t\n",
    "truncated.json": doc[:600],
    "truncated_in_string.json": doc[: doc.index('"A#"') + 2],
    "binary_gzip.json": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xaeQ",
    "binary_no_nul.json": bytes(range(0x80, 0xC0)),
    "latin1_value.json": sub(doc, '"A title"', '"Caf\xe9"').encode("latin-1"),
    "latin1_key.json": sub(doc, '"bpm"', '"bpm\xb0"').encode("latin-1"),
    "utf16.json": b"\xff\xfe" + doc.encode("utf-16-le"),
    "bom.json": b"\xef\xbb\xbf" + doc.encode("utf-8"),
    "bare_nan.json": sub(sub(doc, '"average_loudness": 0.8125', '"average_loudness": nan'),
                         '"bpm": 120.5', '"bpm": -inf'),
    "python_nan.json": sub(sub(doc, '"average_loudness": 0.8125', '"average_loudness": NaN'),
                           '"bpm": 120.5', '"bpm": -Infinity'),
    "nan_in_vector.json": sub(doc, '"mean": [0.1, 0.2, 0.3, 0.4]', '"mean": [0.1, -nan, 0.3, 0.4]'),
    "huge_number.json": sub(doc, '"bpm": 120.5', '"bpm": 1e400'),
    # Found by fuzz_features: RapidJSON 1.1.0 (kParseNanAndInfFlag + kParseFullPrecisionFlag)
    # reads an exponent or fraction after NaN/Inf and returns garbage (0, 0.5) in release builds,
    # reading before its buffer; a debug build aborts on an assertion.
    "inf_exponent.json": sub(doc, '"bpm": 120.5', '"bpm": Infe308'),
    # Found by fuzz_features: a finite number beyond the float range becomes inf in the float
    # matrix, uncounted, and passes --non-finite reject.
    "float_overflow.json": sub(doc, '"dmean": 210.5', '"dmean": 2.5e124'),
    # Found by fuzz_features: valid JSON zeros with a large exponent; RapidJSON 1.1.0's
    # full-precision path normalises a zero significand (clz(0), undefined) and reads 0e200 as inf.
    "zero_exponent.json": sub(sub(doc, '"bpm": 120.5', '"bpm": 0e200'),
                              '"danceability": 1.125', '"danceability": 0e308')
                           .replace('"dynamic_complexity": 3', '"dynamic_complexity": 0.' + "0" * 80),
    # Found by fuzz_features: a key holding \u0000 goes raw into the error's JSON pointer, and the
    # NUL cuts what() short: "00/1.json: /lowlevel/" with no message.
    "nul_in_key.json": sub(sub(doc, '"mfcc": {', '"\\u0000mfcc": {'), "[0.25, 0.5, 3, 0.5]",
                           "[0.25, 0.5, 3]"),
    # Found by fuzz_features: an exponent of many digits overflowed the loader's number scanner
    # (an int, undefined behaviour); valid JSON, read as its value.
    "long_exponent.json": sub(sub(sub(doc, '"bpm": 120.5', '"bpm": 1.205e' + "0" * 30 + "2"),
                                  '"danceability": 1.125', '"danceability": 112.5E-00000000002'),
                              '"dynamic_complexity": 3', '"dynamic_complexity": 3e+' + "0" * 40),
    "nan_fraction.json": sub(doc, '"average_loudness": 0.8125', '"average_loudness": NaN.5'),
    # Issue 11: beyond the float32 range (read as +-inf: counted, or refused under --non-finite
    # reject naming the field); NaN/Inf spellings outside the documented set (a parse error at
    # their byte, wherever they are, skipped metadata included).
    "beyond_float.json": sub(sub(doc, '"bpm": 120.5', '"bpm": 1e39'),
                             '"mean": [0.1, 0.2, 0.3, 0.4]', '"mean": [0.1, -3.5e38, 0.3, 0.4]'),
    "infinity_fraction.json": sub(doc, '"bpm": 120.5', '"bpm": -Infinity.25'),
    "nan_exponent_in_metadata.json": sub(doc, '"metadata": {', '"metadata": {"gain": NaNE+7, '),
    "bare_nan_suffix.json": sub(doc, '"average_loudness": 0.8125', '"average_loudness": nanx'),
    "string_for_number.json": sub(doc, '"average_loudness": 0.8125', '"average_loudness": "loud"'),
    "array_for_number.json": sub(doc, '"bpm": 120.5', '"bpm": [120.5]'),
    "number_for_object.json": sub(doc, '"dissonance": {', '"dissonance": 0.5, "x": {'),
    "number_for_string.json": sub(doc, '"key_key": "A#"', '"key_key": 10'),
    "unknown_category.json": sub(doc, '"key_key": "A#"', '"key_key": "H"'),
    "string_in_vector.json": sub(doc, '"mean": [0.1, 0.2, 0.3, 0.4]', '"mean": [0.1, "0.2", 0.3, 0.4]'),
    "short_vector.json": sub(doc, '"mean": [0.1, 0.2, 0.3, 0.4]', '"mean": [0.1, 0.2, 0.3]'),
    "long_vector.json": sub(doc, '"thpcp": [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]',
                            '"thpcp": [1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]'),
    "short_matrix_row.json": sub(doc, "[0.25, 0.5, 3, 0.5]", "[0.25, 0.5, 3]"),
    "missing_matrix_row.json": sub(doc, ", [0.125, 0.25, 0.5, 4]]", "]"),
    "flat_matrix.json": sub(doc, "[[1, -0.5, 0, 0], [-0.5, 1, -0.5, 0], [0, -0.5, 1, -0.5], "
                                 "[0, 0, -0.5, 1]]", "[1, -0.5, 0, 0]"),
    "no_sections.json": '{"metadata": {"version": {"essentia": "2.1-beta2"}}}\n',
    "highlevel.json": '{"highlevel": {"mood_happy": {"value": "happy"}}, "metadata": {}}\n',
    "empty_object.json": "{}\n",
    "top_level_array.json": "[" + doc + "]",
    "section_is_array.json": sub(doc, '"rhythm": {', '"rhythm": [], "x": {'),
    "trailing_data.json": doc + "{}\n",
    "comment.json": "// extracted by essentia\n" + doc,
    "single_quotes.json": sub(doc, '"key_scale": "major"', "'key_scale': 'major'"),
    "control_char.json": sub(doc, '"A title"', '"A\x01title"'),
    "deep_arrays.json": '{"lowlevel": {"x": ' + "[" * 20000 + "]" * 20000 + "}}\n",
    "deep_objects.json": '{"metadata": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}\n",
    # Two values for one key: RFC 8259 leaves the meaning open (Python keeps the last,
    # RapidJSON's DOM finds the first), so moodboost refuses the file rather than guess.
    "duplicate_key.json": sub(doc, '"bpm": 120.5,', '"bpm": 120.5, "bpm": 99,'),
    "duplicate_section.json": sub(doc, '"tonal": {', '"rhythm": {"bpm": 99}, "tonal": {'),
    "missing_tonal.json": doc[: doc.index(',\n  "tonal"')] + "\n}\n",
}
for name, data in json_cases.items():
    write("json/" + name, data)

# --- split TSVs and tag lists -------------------------------------------------------------------
tsv = (GOOD / "tiny-train.tsv").read_text()
header, *rows = tsv.splitlines(keepends=True)
tsv_cases = {
    "empty.tsv": "",
    "header_only.tsv": header,
    "wrong_header.tsv": header.replace("\t", " ") + "".join(rows),
    "bom.tsv": "\ufeff" + tsv,
    "missing_columns.tsv": header + rows[0] + rows[1].replace("\t30.0", "") + rows[2],
    "no_tags.tsv": header + rows[0].rsplit("\t", 1)[0] + "\n" + rows[1],
    "empty_field.tsv": header + rows[0].replace("artist_000001", "", 1) + rows[1],
    "bad_duration.tsv": header + rows[0].replace("212.5", "3:32") + rows[1],
    "negative_duration.tsv": header + rows[0] + rows[1].replace("30.0", "-30.0"),
    "duplicate_id.tsv": header + rows[0] + rows[1] + rows[2].replace("0000003", "0000001"),
    "duplicate_tag_in_row.tsv": header + rows[0].rstrip("\n") + "\tmood/theme---happy\n",
    "blank_line.tsv": header + rows[0] + "\n" + rows[1],
    "unknown_tag.tsv": header + rows[0] + rows[1].replace("mood/theme---calm", "mood/theme---calmm"),
    "mixed_endings.tsv": header.replace("\n", "\r\n") + rows[0] + rows[1].replace("\n", "\r\n")
    + rows[2],
    "cr_only.tsv": tsv.replace("\n", "\r"),
    "double_cr.tsv": header + rows[0] + rows[1].replace("\n", "\r\r\n") + rows[2],
    "spaces_for_tabs.tsv": header + rows[0].replace("\t", "    "),
    "binary.tsv": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x0a\x00\x01",
    "dotdot_path.tsv": header + rows[0].replace("good/lowlevel.mp3", "../../etc/passwd.mp3"),
    "absolute_path.tsv": header + rows[0].replace("good/lowlevel.mp3", "/etc/passwd.mp3"),
    "not_mp3_path.tsv": header + rows[0].replace("good/lowlevel.mp3", "good/lowlevel.json"),
}
for name, data in tsv_cases.items():
    write("tsv/" + name, data)

tags = (GOOD / "tags.txt").read_text()
tag_cases = {
    "empty.txt": "",
    "blank_line.txt": tags.replace("\n", "\n\n", 1),
    "duplicate.txt": tags + "mood/theme---happy\n",
    "tab.txt": tags + "mood/theme---happy\t12\n",
    "bom.txt": "\ufeff" + tags,
    "double_cr.txt": tags.replace("\n", "\r\r\n"),
    # Found by fuzz_split (a tag "\xef\r" was accepted): a lone byte and CR CR, no LF.
    "fuzz_ef_cr_cr.txt": b"\xef\r\r",
}
for name, data in tag_cases.items():
    write("tags/" + name, data)


# --- .npy ---------------------------------------------------------------------------------------
def npy(descr, shape, data, fortran=False, version=1, dictionary=None):
    """A .npy file as numpy.save lays it out (header padded to 64 bytes), from raw parts."""
    if dictionary is None:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        dictionary = "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (
            descr, "True" if fortran else "False", shape_text)
    preamble = 10 if version == 1 else 12
    text = dictionary.encode("latin-1")
    pad = 64 - (preamble + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def f8(values):
    return b"".join(struct.pack("<d", v) for v in values)


scores = f8([0.1, 0.9, 0.4, 0.6, 0.8, 0.2])  # 3 x 2
npy_cases = {
    "empty.npy": b"",
    "bad_magic.npy": b"\x93NUMPZ" + npy("'<f8'", (3, 2), scores)[6:],
    "text.npy": "0.1,0.9\n0.4,0.6\n0.8,0.2\n",
    "truncated_preamble.npy": b"\x93NUMPY\x01",
    "version_4.npy": npy("'<f8'", (3, 2), scores)[:6] + b"\x04\x00" + npy("'<f8'", (3, 2),
                                                                          scores)[8:],
    "header_past_end.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f8'",
    "truncated_data.npy": npy("'<f8'", (3, 2), scores)[:-5],
    "extra_data.npy": npy("'<f8'", (3, 2), scores) + b"\x00" * 8,
    "big_endian.npy": npy("'>f8'", (3, 2), scores),
    "complex.npy": npy("'<c16'", (3, 1), scores),
    "structured.npy": npy("[('a', '<f8')]", (6,), scores),
    "object.npy": npy("'|O'", (3, 2), scores),
    "fortran_order.npy": npy("'<f8'", (3, 2), scores, fortran=True),
    "one_d.npy": npy("'<f8'", (6,), scores),
    "three_d.npy": npy("'<f8'", (3, 1, 2), scores),
    "bad_dictionary.npy": npy(None, None, scores, dictionary="{'descr': '<f8', 'shape': (3, 2)"),
    "missing_shape.npy": npy(None, None, scores,
                             dictionary="{'descr': '<f8', 'fortran_order': False, }"),
    "unknown_key.npy": npy(None, None, scores, dictionary="{'descr': '<f8', 'fortran_order': "
                           "False, 'shape': (3, 2), 'order': 'C', }"),
    "huge_shape.npy": npy("'<f8'", (2 ** 62, 2 ** 62), scores),
    # Found by fuzz_npy (10-minute run): no data, but 18 billion columns to loop over.
    "empty_huge_columns.npy": npy("'<i4'", (0, 18427387904), b""),
    "float_labels.npy": npy("'<f4'", (3, 2), struct.pack("<6f", 1, 0, 0, 1, 1, 0)),
    "label_value_2.npy": npy("'<i4'", (3, 2), struct.pack("<6i", 1, 0, 0, 1, 2, 0)),
    "v2_truncated.npy": npy("'<f8'", (3, 2), scores, version=2)[:-1],
}
for name, data in npy_cases.items():
    write("npy/" + name, data)

# The good matrices the CLI cases pair a bad file with (3 tracks x 2 tags; both classes per tag).
(GOOD / "groundtruth.npy").write_bytes(npy("'|b1'", (3, 2), bytes([1, 0, 0, 1, 1, 0])))
(GOOD / "predictions.npy").write_bytes(npy("'<f8'", (3, 2), scores))
