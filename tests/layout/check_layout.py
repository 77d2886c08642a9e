#!/usr/bin/env python3
"""The README's layout table is the tree's: every folder it names exists and declares the
CMake targets it names, and a folder includes only its own headers and those of the
folders above it in the table (so nothing in the socket layer reaches up to the daemon or
the admin API), and inside the socket layer only the workers include the worker. Prints each breach with its file and line; exits 1 if there is any.

    python3 tests/layout/check_layout.py [REPOSITORY]
"""

import os
import re
import sys

SOURCE_FOLDERS = ("relay/", "auth/", "admin/")  # the rows that hold the product's code
# Inside the socket layer the worker builds the listeners, the socket pool and the TCP
# relay and hands each what it needs; none of them reaches back up to it (issue 14).
THE_WORKER = ("relay/net/worker.h", "relay/net/worker_group.h")
BUILDS_WORKERS = ("relay/net/worker", "relay/net/worker_group")


def layout_rows(readme):
    """(folder, [targets]) for each row of the table under "## Layout", in order."""
    rows, inside = [], False
    for line in readme.splitlines():
        if line.startswith("## "):
            inside = line == "## Layout"
            continue
        match = re.match(r"\| `([^`]+)/` \| ([^|]*)\|", line) if inside else None
        if match:
            rows.append((match.group(1), re.findall(r"`([^`]+)`", match.group(2))))
    return rows


def owner(path, folders):
    """The table's folder that holds `path`: the longest that is a prefix of it."""
    found = [folder for folder in folders if path.startswith(folder + "/")]
    return max(found, key=len) if found else None


def breaches(root):
    with open(os.path.join(root, "README.md")) as readme:
        rows = layout_rows(readme.read())
    if not rows:
        return ["README.md: no layout table under \"## Layout\""]
    problems = []
    folders = [folder for folder, _ in rows]
    for folder, targets in rows:
        directory = os.path.join(root, folder)
        if not os.path.isdir(directory):
            problems.append(f"README.md: the layout table names {folder}/, which does not exist")
            continue
        declared = ""
        for below, _, names in os.walk(directory):
            if "CMakeLists.txt" in names:
                with open(os.path.join(below, "CMakeLists.txt")) as cmake:
                    declared += cmake.read()
        for target in targets:
            if not re.search(r"add_(library|executable)\(\s*" + re.escape(target) + r"\b",
                             declared):
                problems.append(f"README.md: no CMakeLists.txt under {folder}/ declares {target}")
    for position, folder in enumerate(folders):
        if not folder.startswith(SOURCE_FOLDERS):
            continue
        allowed = set(folders[:position + 1])
        for directory, _, names in os.walk(os.path.join(root, folder)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, root)
                if owner(relative, folders) != folder:
                    continue  # a sub-folder with a row of its own
                with open(path) as source:
                    for number, line in enumerate(source, 1):
                        match = re.match(r'#include "([^"]+)"', line)
                        if not match:
                            continue
                        if match.group(1) in THE_WORKER and folder == "relay/net" and \
                                os.path.splitext(relative)[0] not in BUILDS_WORKERS:
                            problems.append(f"{relative}:{number}: includes {match.group(1)}: "
                                            f"the socket layer's parts do not reach up to the "
                                            f"worker that builds them")
                        included = owner(match.group(1), folders)
                        if included is not None and included not in allowed:
                            problems.append(f"{relative}:{number}: includes {match.group(1)}, "
                                            f"from {included}/, below {folder}/ in the layout")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = breaches(os.path.abspath(root))
    for problem in problems:
        print(problem)
    print(f"layout: {len(problems)} breaches")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
