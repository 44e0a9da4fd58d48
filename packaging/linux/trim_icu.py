"""Shrink the ICU data library in a PyInstaller bundle to what Qt uses (31 MB -> ~8 MB).

    python3 packaging/linux/trim_icu.py BUNDLE_DIR        (needs icupkg from icu-devtools, and cc)

QtCore links ICU, whose data library (libicudata.so.NN) holds the whole Unicode CLDR: break-iterator
dictionaries, transliterators, unit/currency/language/region display names, legacy code pages, and
date/number formats for every locale. Qt 6 takes its locale data (number/date formats, names) from
its own CLDR tables in QtCore and does its own text segmentation and IDNA; it asks ICU for collation
(QCollator, localeAwareCompare), locale-aware case mapping, time-zone names and legacy codecs (the app
uses none). So this keeps: collation (coll/), time zones (zone/, zoneinfo64), the root and English
locale, all non-locale tables (likely subtags, plurals, normalisation, character names, code page
aliases), and drops the rest. ``assistant-app doctor`` checks collation and Turkish case mapping.

The data is the ``icudtNN_dat`` symbol of the library; it is extracted, filtered with ``icupkg -r``
and linked back into a data-only shared library with the same soname (``.incbin``, no code).
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

DROP_TREES = ("brkitr/", "translit/", "rbnf/", "unit/", "curr/", "lang/", "region/")
KEEP_LOCALES = re.compile(r"^(root|en|en_US|en_US_POSIX|en_001|en_150|en_GB)\.res$")
LOCALE_RES = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*\.res$")


def should_drop(item: str) -> bool:
    if item.startswith(DROP_TREES):
        return True
    if "/" in item:
        return False
    if item.endswith(".cnv"):
        return True  # legacy code pages (cnvalias.icu, the alias table, stays)
    return bool(LOCALE_RES.match(item)) and not KEEP_LOCALES.match(item)


def data_symbol(lib: Path) -> tuple[str, int, int]:
    """(symbol name, file offset, size) of the ``icudtNN_dat`` object in an ELF data library."""
    data = lib.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{lib}: not a 64-bit little-endian ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        _name, kind, _flags, addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize
        )
        sections.append((kind, addr, offset, size, link, entsize))
    for kind, _addr, offset, size, link, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strtab_offset = sections[link][2]
        for pos in range(offset, offset + size, entsize):
            st_name, _info, _other, _shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", data, pos)
            end = data.index(b"\0", strtab_offset + st_name)
            symbol = data[strtab_offset + st_name : end].decode()
            if re.fullmatch(r"icudt\d+_dat", symbol):
                for _k, s_addr, s_offset, s_size, _l, _e in sections:
                    if s_addr <= st_value < s_addr + s_size and s_addr:
                        return symbol, s_offset + (st_value - s_addr), st_size
    raise SystemExit(f"{lib}: no icudtNN_dat symbol")


def trim(lib: Path) -> tuple[int, int]:
    """Replace ``lib`` with a trimmed copy; returns (old size, new size) in bytes."""
    for tool in ("icupkg", "cc"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (Debian/Ubuntu: apt install icu-devtools gcc), or set ICU_TRIM=0")
    symbol, offset, size = data_symbol(lib)
    with tempfile.TemporaryDirectory(prefix="icu-trim-") as tmp:
        work = Path(tmp)
        # icupkg insists that the file name matches the package name inside ("icudt73l").
        package = symbol.removesuffix("_dat") + "l"
        (work / "in").mkdir()
        (work / "out").mkdir()
        full, small = work / "in" / f"{package}.dat", work / "out" / f"{package}.dat"
        full.write_bytes(lib.read_bytes()[offset : offset + size])
        items = subprocess.run(["icupkg", "-l", str(full)], capture_output=True, text=True, check=True).stdout.split()
        drop = [item for item in items if should_drop(item)]
        (work / "drop.lst").write_text("\n".join(drop) + "\n")
        subprocess.run(["icupkg", "-r", str(work / "drop.lst"), str(full), str(small)], check=True, capture_output=True)
        (work / "data.S").write_text(
            "    .section .rodata\n"
            f"    .globl {symbol}\n"
            f"    .type {symbol}, @object\n"
            "    .balign 16\n"
            f"{symbol}:\n"
            f'    .incbin "{small}"\n'
            f"    .size {symbol}, . - {symbol}\n"
            '    .section .note.GNU-stack,"",@progbits\n'
        )
        out = work / lib.name
        subprocess.run(
            ["cc", "-shared", "-nostdlib", f"-Wl,-soname,{lib.name}", "-Wl,-z,noexecstack", "-o", str(out),
             str(work / "data.S")],
            check=True,
        )  # fmt: skip
        new_symbol, _, new_size = data_symbol(out)
        if new_symbol != symbol or new_size != small.stat().st_size:
            raise SystemExit("the rebuilt ICU data library does not export the data symbol")
        old = lib.stat().st_size
        shutil.copyfile(out, lib)
        return old, lib.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    args = parser.parse_args(argv)
    libs = sorted(p for p in args.bundle.rglob("libicudata.so.*") if p.is_file() and not p.is_symlink())
    if not libs:
        print("no libicudata in the bundle; nothing to trim", file=sys.stderr)
        return 0
    for lib in libs:
        old, new = trim(lib)
        print(f"{lib.relative_to(args.bundle)}: {old / 2**20:.1f} MB -> {new / 2**20:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
