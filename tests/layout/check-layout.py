#!/usr/bin/python3
"""The folder is the part (DESIGN.md): check the #include lines of the parts.

- plugin/ (the core) includes no header of oci-hook/, cdi/ or plugin/kubelet/;
  those three may include plugin/ and themselves, never each other;
- no include cycle between modules (a module is x.c with x.h);
- each header's functions are defined in the .c of the same name, and each
  library .c includes its own header first (binaries, with main(), have none).

Prints one line per finding; exit 1 when there is any.  Usage: check-layout.py SRCDIR
"""
import os
import re
import sys

PARTS = {"plugin": "plugin", "oci-hook": "oci-hook", "cdi": "cdi", "plugin/kubelet": "kubelet"}
MAY_INCLUDE = {"plugin": {"plugin"}, "oci-hook": {"oci-hook", "plugin"}, "cdi": {"cdi", "plugin"},
               "kubelet": {"kubelet", "plugin"}}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
PROTO = re.compile(r"^[A-Za-z_][\w \*]*?\b(vgpu_\w+)\s*\(", re.M)


def sources(root):
    """{(part, name): path} of every .c and .h of the parts."""
    found = {}
    for folder, part in PARTS.items():
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                found[(part, f)] = os.path.join(d, f)
    return found


def main(root):
    files = sources(root)
    headers = {}
    for (part, name) in files:
        if name.endswith(".h"):
            headers.setdefault(name, []).append(part)
    findings = []
    edges = {}
    for (part, name), path in files.items():
        text = open(path, encoding="utf-8").read()
        module = (part, name[:-2])
        for inc in INCLUDE.findall(text):
            owners = headers.get(inc)
            if not owners:
                continue  # config.h, generated protobuf headers, system headers in quotes
            target = part if part in owners else owners[0]
            if len(owners) > 1 and part not in owners:
                findings.append(f"{path}: \"{inc}\" is in several parts: {', '.join(owners)}")
            if target not in MAY_INCLUDE[part]:
                findings.append(f"{path}: includes {target}'s \"{inc}\": {part} may include only "
                                f"{' and '.join(sorted(MAY_INCLUDE[part]))}")
            dep = (target, inc[:-2])
            if dep != module:
                edges.setdefault(module, set()).add(dep)
        if name.endswith(".c") and not re.search(r"^main\s*\(", text, re.M):
            own = name[:-2] + ".h"
            first = INCLUDE.search(text)
            if (part, own) not in files:
                findings.append(f"{path}: a library file without its own header {own}")
            elif not first or first.group(1) != own:
                findings.append(f"{path}: the first include is not its own header \"{own}\"")
        if name.endswith(".h"):
            impl = files.get((part, name[:-2] + ".c"))
            body = open(impl, encoding="utf-8").read() if impl else ""
            decls = PROTO.findall(re.sub(r"/\*.*?\*/", "", text, flags=re.S))
            for fn in decls:
                if "static inline" in text and re.search(r"static inline[^;{]*\b" + fn + r"\s*\(", text):
                    continue
                if not re.search(r"^" + fn + r"\s*\(", body, re.M):
                    findings.append(f"{path}: declares {fn}, which {name[:-2]}.c does not define")
    findings += cycles(edges)
    for f in findings:
        print(f)
    print(f"{len(files)} files, {sum(len(v) for v in edges.values())} module edges, {len(findings)} findings")
    return 1 if findings else 0


def cycles(edges):
    """One line per cycle found by depth-first search over the module graph."""
    found, state, stack = [], {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == "open":
                loop = stack[stack.index(d):] + [d]
                found.append("include cycle: " + " -> ".join(f"{p}/{n}" for p, n in loop))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
