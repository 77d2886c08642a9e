#!/usr/bin/env python3
"""No function of the product's code runs past MAX_LINES lines (issue 14): a long
function is a sign that two jobs share it. Reads clang-formatted .cpp files of relay/,
auth/ and admin/, where a function defined at namespace scope opens with a line ending
in "{" at column 0 (its signature's last line) and closes with "}" alone at column 0;
lambdas and members defined in headers are part of what they sit in. Prints each function
over the limit with its file, line and length; exits 1 if there is any.

    python3 tests/layout/check_function_length.py [REPOSITORY]
"""

import os
import re
import sys

MAX_LINES = 80
FOLDERS = ("relay", "auth", "admin")
LITERAL = re.compile(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|//.*$')
NOT_A_FUNCTION = re.compile(r"^\s*(namespace|struct|class|enum|union|extern)\b|=\s*\{$")


def signature_at(lines, index):
    """The first line of the declaration whose body opens on line `index` (0-based)."""
    first = index
    while first > 0:
        previous = lines[first - 1].strip()
        if not previous or previous.endswith((";", "}", "{")) or previous.startswith(("#", "//")):
            break
        first -= 1
    return lines[first].strip()


def long_functions(path):
    """(first line, length, signature) of each function at namespace scope past the limit:
    braces are counted outside literals and comments, and a block that opens at depth 0
    and is not a namespace, type or initialiser is a function."""
    found = []
    with open(path) as source:
        lines = source.read().splitlines()
    depth, start = 0, None
    for index, line in enumerate(lines):
        if re.match(r"\s*namespace\b", line) or re.match(r"\}\s*//\s*namespace", line):
            continue  # a namespace's braces hold functions, they are not one
        code = LITERAL.sub("", line)
        if depth == 0 and "{" in code and not NOT_A_FUNCTION.search(code):
            start = index
        depth += code.count("{") - code.count("}")
        if start is not None and depth <= 0:
            length = index - start + 1
            if length > MAX_LINES:
                found.append((start + 1, length, signature_at(lines, start)))
            depth, start = 0, None
    return found


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                           else os.path.join(os.path.dirname(__file__), "..", ".."))
    breaches = 0
    for folder in FOLDERS:
        for directory, _, names in os.walk(os.path.join(root, folder)):
            for name in sorted(names):
                if not name.endswith(".cpp"):
                    continue
                path = os.path.join(directory, name)
                for start, length, signature in long_functions(path):
                    breaches += 1
                    print(f"{os.path.relpath(path, root)}:{start}: {length} lines: {signature}")
    print(f"functions over {MAX_LINES} lines: {breaches}")
    sys.exit(1 if breaches else 0)


if __name__ == "__main__":
    main()
