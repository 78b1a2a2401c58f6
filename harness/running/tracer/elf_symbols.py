"""The few ELF facts the tracer needs: whether a program is x86_64; a file's symbols, type and first load address.

Read with ``struct`` from the file itself (ELF64 little-endian, the only
tracee this harness runs; see elf(5)): the section headers give the symbol
tables (``.symtab`` when the file is not stripped, ``.dynsym`` always) and
the program headers give the first ``PT_LOAD`` segment, from which the load
bias of a position-independent file follows.  A dependency (pyelftools) would
parse much more than these three facts; this module is the whole need.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_EM_X86_64 = 62
ET_DYN = 3
_PT_LOAD = 1
_SHT_SYMTAB = 2
_SHT_DYNSYM = 11
_SYM_SIZE = 24  # sizeof(Elf64_Sym)


@dataclass(frozen=True, slots=True)
class ElfSymbols:
    """The symbols of one ELF file that were asked for, and where the file expects to be loaded."""

    type: int
    """``e_type``: ET_EXEC (fixed addresses) or ET_DYN (position-independent: add the load bias)."""
    first_load_vaddr: int
    """``p_vaddr`` of the first PT_LOAD segment, page-aligned down."""
    symbols: dict[str, int]
    """``st_value`` of each wanted symbol found."""


def is_x86_64_program(path: str) -> bool:
    """Whether the file is a 64-bit x86_64 ELF program (e_ident's class, e_machine at offset 18).

    An i386 program is ELFCLASS32 with EM_386, an x32 one ELFCLASS32 with EM_X86_64: every call of theirs is
    of another ABI.  A 64-bit one that makes a foreign call (one ``int $0x80``) makes a stray one.
    """
    try:
        with open(path, "rb") as program:
            header = program.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[:4] == _ELF_MAGIC and header[4] == _ELFCLASS64 and header[18] == _EM_X86_64


def _elf64(path: str) -> bytes | None:
    """The bytes of an ELF64 little-endian file; None when it is unreadable or no such file."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    if len(data) < 64 or data[:4] != _ELF_MAGIC or data[4] != _ELFCLASS64 or data[5] != _ELFDATA2LSB:
        return None
    return data


def read_symbols(path: str, wanted: frozenset[str]) -> ElfSymbols | None:
    """The ``wanted`` symbols of the ELF file at ``path``; None when it is no readable ELF64 little-endian file."""
    data = _elf64(path)
    if data is None:
        return None
    try:
        return _parse(data, wanted)
    except (struct.error, IndexError):
        return None


def _parse(data: bytes, wanted: frozenset[str]) -> ElfSymbols:
    (e_type,) = struct.unpack_from("<H", data, 16)
    e_phoff, e_shoff = struct.unpack_from("<QQ", data, 32)
    e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 54)
    first_load = 0
    for index in range(e_phnum):
        p_type, _, _, p_vaddr = struct.unpack_from("<IIQQ", data, e_phoff + index * e_phentsize)
        if p_type == _PT_LOAD:
            first_load = p_vaddr & ~0xFFF
            break
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + index * e_shentsize) for index in range(e_shnum)]
    found: dict[str, int] = {}
    for _, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, _ in sections:
        if sh_type not in (_SHT_SYMTAB, _SHT_DYNSYM):
            continue
        _, _, _, _, strings_offset, strings_size, _, _, _, _ = sections[sh_link]
        names = _name_offsets(data[strings_offset : strings_offset + strings_size], wanted)
        table = data[sh_offset : sh_offset + sh_size]
        for st_name, _, _, st_shndx, st_value, _ in struct.iter_unpack("<IBBHQQ", table):
            name = names.get(st_name)
            # st_shndx 0: undefined here, that is defined by another file.
            if name is not None and st_shndx != 0 and st_value != 0:
                found.setdefault(name, st_value)
        if len(found) == len(wanted):
            break
    return ElfSymbols(e_type, first_load, found)


def _name_offsets(strings: bytes, wanted: frozenset[str]) -> dict[int, str]:
    """Where each wanted name starts in a string table (names are NUL-terminated, and may share tails)."""
    offsets: dict[int, str] = {}
    for name in wanted:
        needle = name.encode() + b"\0"
        start = strings.find(needle)
        while start != -1:
            if start == 0 or strings[start - 1] == 0:
                offsets[start] = name
            start = strings.find(needle, start + 1)
    return offsets


_STT_FUNC = 2


def function_at(path: str, vaddr: int) -> str | None:
    """The name of the function whose code holds ``vaddr`` (an address as the file counts them), if a symbol says.

    ``.symtab`` is searched first, then ``.dynsym``: a stripped binary still
    names its exported functions.  None when no function symbol covers it.
    """
    data = _elf64(path)
    if data is None:
        return None
    try:
        return _function_at(data, vaddr)
    except (struct.error, IndexError, UnicodeDecodeError):
        return None


def _function_at(data: bytes, vaddr: int) -> str | None:
    (e_shoff,) = struct.unpack_from("<Q", data, 40)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 58)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + index * e_shentsize) for index in range(e_shnum)]
    for wanted_type in (_SHT_SYMTAB, _SHT_DYNSYM):
        for _, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, _ in sections:
            if sh_type != wanted_type:
                continue
            strings_offset = sections[sh_link][4]
            table = data[sh_offset : sh_offset + sh_size]
            for st_name, st_info, _, st_shndx, st_value, st_size in struct.iter_unpack("<IBBHQQ", table):
                if st_info & 0xF == _STT_FUNC and st_shndx != 0 and st_value <= vaddr < st_value + st_size:
                    end = data.index(b"\0", strings_offset + st_name)
                    return data[strings_offset + st_name : end].decode()
    return None


def load_bias(path: str, mapped_at: int) -> int:
    """What to subtract from a run-time address to get the file's own: 0 for ET_EXEC, else where it was mapped.

    ``mapped_at`` is the start of the file's first mapping (offset 0), where
    its first PT_LOAD segment's page lies (ld.so maps them in order).
    """
    symbols = read_symbols(path, frozenset())
    if symbols is None or symbols.type != ET_DYN:
        return 0
    return mapped_at - symbols.first_load_vaddr
