#!/usr/bin/env python3
"""What fills the component: code bytes per crate and per function, from the core module's name section.

The shipped component is stripped (profile `plugin`), so build one that keeps its names first:

    CARGO_PROFILE_PLUGIN_STRIP=false cargo build -p messenger-plugin --target wasm32-wasip2 --profile plugin \
        --target-dir target/plugin-names
    python3 plugin/size_report.py target/plugin-names/wasm32-wasip2/plugin/messenger_plugin.wasm [--top N]

Prints the component's sections, then the code by crate, then the largest functions. No dependencies: it reads
the binary format directly (a component nests its core modules as sections of id 1).
"""

import re
import sys
from collections import Counter

SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
                 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "data count"}


def leb(data, pos):
    """An unsigned LEB128 at `pos`: (value, next position)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def sections(data, start, end):
    """(id, payload start, payload end) of each section of the module or component in data[start:end]."""
    pos = start + 8  # magic and version/layer
    while pos < end:
        section_id = data[pos]
        size, pos = leb(data, pos + 1)
        yield section_id, pos, pos + size
        pos += size


def core_modules(data):
    """The core modules that a component nests (or the module itself): (start, end) of each."""
    if data[4:8] == b"\x01\x00\x00\x00":
        return [(0, len(data))]
    return [(s, e) for section_id, s, e in sections(data, 0, len(data)) if section_id == 1]


def function_names(data, start, end):
    """Function index -> name, from the `name` custom section's function names."""
    name_len, pos = leb(data, start)
    if data[pos:pos + name_len] != b"name":
        return {}
    pos += name_len
    names = {}
    while pos < end:
        kind = data[pos]
        size, pos = leb(data, pos + 1)
        if kind == 1:
            count, p = leb(data, pos)
            for _ in range(count):
                index, p = leb(data, p)
                length, p = leb(data, p)
                names[index] = data[p:p + length].decode("utf-8", "replace")
                p += length
        pos += size
    return names


def imported_functions(data, start):
    """How many functions the module imports (they come first in the function index space)."""
    count, pos = leb(data, start)
    functions = 0
    for _ in range(count):
        for _ in range(2):  # module, name
            length, pos = leb(data, pos)
            pos += length
        kind = data[pos]
        pos += 1
        if kind == 0:
            _, pos = leb(data, pos)
            functions += 1
        elif kind == 1:  # table: reftype, limits
            flags, pos = leb(data, pos + 1)
            _, pos = leb(data, pos)
            if flags & 1:
                _, pos = leb(data, pos)
        elif kind == 2:  # memory: limits
            flags, pos = leb(data, pos)
            _, pos = leb(data, pos)
            if flags & 1:
                _, pos = leb(data, pos)
        elif kind == 3:  # global: type, mutability
            pos += 2
        else:
            raise ValueError(f"import kind {kind} is not read here")
    return functions


ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$u20$": " ", "$u27$": "'",
           "$u5b$": "[", "$u5d$": "]", "$u7b$": "{", "$u7d$": "}", "$u3b$": ";", "$u2b$": "+", "$u22$": '"',
           "..": "::"}


def demangle(name):
    """A Rust legacy-mangled name (`_ZN..17h<hash>E`) as a path; a v0 one (`_R..`, the precompiled standard
    library's) as its crate and its mangled form; other names as they are."""
    if name.startswith("_R"):
        crate = re.search(r"C(?:s[0-9A-Za-z]*_)?(\d+)", name)
        if not crate:
            return name
        return f"{name[crate.end():crate.end() + int(crate.group(1))]}::<v0 {name}>"
    if not name.startswith("_ZN"):
        return name
    parts, pos = [], 3
    while pos < len(name) and name[pos].isdigit():
        end = pos
        while name[end].isdigit():
            end += 1
        length = int(name[pos:end])
        parts.append(name[end:end + length])
        pos = end + length
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(part.removeprefix("_") if part.startswith("_$") else part for part in parts)
    for escape, plain in ESCAPES.items():
        text = text.replace(escape, plain)
    return text


STD_CRATES = {"core", "alloc", "std"}


def crate_of(name):
    """The crate a function belongs to: its path's first part; for `<T as Trait>`, the trait's crate when T is
    from the standard library (serde's impls for `PhantomData` are serde's code, not core's)."""
    if name.startswith("helpdesk:"):
        return "(WIT export glue: messenger_plugin)"
    if not re.match(r"[<&A-Za-z_]", name):
        return "(unnamed)"
    as_trait = re.match(r"<&?(?:mut )?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)::[^ ]*.* as &?([A-Za-z_][A-Za-z0-9_]*)::", name)
    if as_trait:
        own, trait = as_trait.groups()
        return trait if own in STD_CRATES else own
    match = re.match(r"<?&?(?:mut )?(?:dyn )?\[?([A-Za-z_][A-Za-z0-9_]*)::", name)
    return match.group(1) if match else "(libc, allocator, shims)"


def report(path, top):
    data = open(path, "rb").read()
    print(f"{path}: {len(data):,} bytes")
    for start, end in core_modules(data):
        print(f"\ncore module: {end - start:,} bytes")
        code = []
        names = {}
        imports = 0
        by_section = Counter()
        for section_id, s, e in sections(data, start, end):
            label = SECTION_NAMES.get(section_id, str(section_id))
            if section_id == 0:
                name_len, p = leb(data, s)
                label = "custom " + data[p:p + name_len].decode("utf-8", "replace")
                names.update(function_names(data, s, e))
            elif section_id == 2:
                imports = imported_functions(data, s)
            elif section_id == 10:
                count, p = leb(data, s)
                for _ in range(count):
                    size, body = leb(data, p)
                    code.append(body + size - p)
                    p = body + size
            by_section[label] += e - s
        print("| section | bytes |\n|---|---:|")
        for label, size in by_section.most_common():
            print(f"| {label} | {size:,} |")
        functions = [(size, demangle(names.get(imports + i, f"function {imports + i}"))) for i, size in enumerate(code)]
        by_crate = Counter()
        for size, name in functions:
            by_crate[crate_of(name)] += size
        total = sum(code)
        print(f"\n| crate (code bytes) | bytes | share |\n|---|---:|---:|")
        for crate, size in by_crate.most_common():
            print(f"| {crate} | {size:,} | {100 * size / total:.1f}% |")
        print(f"\n| function (largest {top}) | bytes |\n|---|---:|")
        for size, name in sorted(functions, reverse=True)[:top]:
            print(f"| `{name[:110]}` | {size:,} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    top = 40
    if "--top" in args:
        at = args.index("--top")
        top = int(args[at + 1])
        del args[at:at + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    report(args[0], top)
