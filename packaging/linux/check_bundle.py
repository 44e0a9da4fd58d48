"""Check a Linux onedir bundle against the system and the .deb's Depends.

    python3 packaging/linux/check_bundle.py BUNDLE_DIR [--depends "libc6 (>= 2.36), libx11-6, ..."] [--json]

For every ELF file in the bundle it reads the libraries it links directly (DT_NEEDED) and resolves them
the way the frozen app does (bundle root first: PyInstaller's bootloader puts it on LD_LIBRARY_PATH; the
bundled PortAudio's own folder, whose libraries the runtime hook preloads). It reports:

- ``missing``: libraries found neither in the bundle nor on this system (the app would not start,
  or a plugin would not load);
- ``system_packages``: the Debian packages that provide the system libraries the bundle links directly;
- ``not_in_depends``: those packages that ``--depends`` does not list (the .deb would install on a
  system where the app cannot start).

Exit status 1 when ``missing`` or ``not_in_depends`` is non-empty. Standard library only (ldd from libc-bin,
dpkg-query from dpkg), so it runs with any python3 on the build machine and in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB = 0, 1, 5
# Loader and libc sonames: always provided by libc6 (ldd prints the loader without "=>").
LIBC_PREFIXES = ("ld-linux", "libc.so", "libm.so", "libmvec.so", "libdl.so", "libpthread.so", "librt.so", "libutil.so")


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    """DT_NEEDED sonames of an ELF file (32/64-bit, either byte order), read from its dynamic segment."""
    data = path.read_bytes()
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        phoff = struct.unpack_from(end + "Q", data, 0x20)[0]
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
    else:
        phoff = struct.unpack_from(end + "I", data, 0x1C)[0]
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None  # (offset, size)
    for i in range(phnum):
        base = phoff + i * phentsize
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(end + "IIQQQQ", data, base)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(end + "IIIII", data, base)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    entry = struct.Struct(end + ("qQ" if is64 else "iI"))
    names: list[int] = []
    strtab_vaddr = None
    for off in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
        tag, val = entry.unpack_from(data, off)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            names.append(val)
        elif tag == DT_STRTAB:
            strtab_vaddr = val
    if strtab_vaddr is None:
        return []
    strtab = next((o + strtab_vaddr - v for v, o, sz in loads if v <= strtab_vaddr < v + sz), strtab_vaddr)
    result = []
    for n in names:
        start = strtab + n
        result.append(data[start : data.index(b"\0", start)].decode())
    return result


def ldd(path: Path, library_path: str) -> dict[str, str | None]:
    """soname -> resolved path (None when not found), as the dynamic loader resolves it."""
    env = {**os.environ, "LD_LIBRARY_PATH": library_path}
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=False).stdout
    result: dict[str, str | None] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|\S+)", line)
        if m:
            result[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return result


def package_of(path: str) -> str | None:
    """The installed Debian package owning a library file (usrmerge-aware), or None."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[4:])
        elif p.startswith("/lib"):
            candidates.append("/usr" + p)
    for p in dict.fromkeys(candidates):
        out = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends_names(depends: str) -> set[str]:
    names = set()
    for clause in depends.split(","):
        for alternative in clause.split("|"):
            name = alternative.strip().split(" ", 1)[0].split("(", 1)[0].split(":", 1)[0].strip()
            if name:
                names.add(name)
    return names


def check(bundle: Path, depends: str | None) -> dict:
    internal = bundle / "_internal"
    library_path = f"{internal}:{internal / 'portaudio'}"
    names_in_bundle = {p.name for p in bundle.rglob("*")}
    missing: dict[str, list[str]] = {}
    system: dict[str, str] = {}  # soname -> path
    for elf in sorted(p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)):
        direct = needed(elf)
        resolved = ldd(elf, library_path)
        for soname, where in resolved.items():
            if where is None:
                missing.setdefault(soname, []).append(str(elf.relative_to(bundle)))
        for soname in direct:
            if soname in names_in_bundle:
                continue
            where = resolved.get(soname)
            if where and not where.startswith(str(bundle)):
                system[soname] = where
            elif soname.startswith(LIBC_PREFIXES):
                system[soname] = where or soname
    packages: dict[str, str] = {}
    unowned: list[str] = []
    for soname, where in sorted(system.items()):
        pkg = "libc6" if soname.startswith(LIBC_PREFIXES) else package_of(where)
        if pkg is None:
            unowned.append(f"{soname} ({where})")
        else:
            packages[soname] = pkg
    result = {
        "bundle": str(bundle),
        "missing": missing,
        "system_libraries": packages,
        "system_packages": sorted(set(packages.values())),
        "unowned_system_libraries": unowned,
    }
    if depends is not None:
        listed = depends_names(depends)
        result["not_in_depends"] = sorted(set(packages.values()) - listed)
        result["depends_not_linked"] = sorted(listed - set(packages.values()))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the onedir folder (holds the executable and _internal/)")
    parser.add_argument("--depends", help="the .deb's Depends field; packages the bundle links must be listed")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    report = check(args.bundle.resolve(), args.depends)
    problems = bool(report["missing"]) or bool(report.get("not_in_depends"))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for soname, users in report["missing"].items():
            print(f"MISSING {soname} (needed by {', '.join(users[:3])}{' ...' if len(users) > 3 else ''})")
        for pkg in report.get("not_in_depends", []):
            libs = [s for s, p in report["system_libraries"].items() if p == pkg]
            print(f"NOT IN DEPENDS {pkg} (provides {', '.join(libs)})")
        for item in report["unowned_system_libraries"]:
            print(f"note: {item} belongs to no installed package")
        print(f"system packages linked directly: {', '.join(report['system_packages'])}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
