#!/bin/sh
# Includes only point down: every `#include "..."` in src/ and ui/ names a
# header of its own folder or of one listed before it in src/README.md,
# and no two modules (x.c with x.h) include each other or form a circle.
# Usage: layers.sh [TOPDIR]  (default: $top_srcdir, else the parent of tests/)
top=${1:-${top_srcdir:-$(dirname "$0")/..}}
exec /usr/bin/python3 - "$top" <<'PY'
import os, re, sys

top = sys.argv[1]
readme = os.path.join(top, 'src', 'README.md')
order = []
for line in open(readme, encoding='utf-8'):
    m = re.match(r'\d+\. `(\w+)/`', line)
    if m:
        order.append(m.group(1))
if not order:
    sys.exit('layers: %s lists no folders' % readme)
rank = {name: i for i, name in enumerate(order)}

def folder(rel):
    parts = rel.split('/')
    if parts[0] == 'ui':
        return 'ui'
    if parts[0] == 'src' and len(parts) > 2:
        return parts[1]
    return None

files = []
for base in ('src', 'ui'):
    for d, _, names in os.walk(os.path.join(top, base)):
        for n in names:
            if n.endswith(('.c', '.h')) and '.pb-c.' not in n:
                files.append(os.path.relpath(os.path.join(d, n), top))
files.sort()
known = set(files)
errors = []
edges = {}
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def resolve(src, path):
    for cand in (os.path.join(os.path.dirname(src), path), 'src/' + path, path):
        cand = os.path.normpath(cand)
        if cand in known:
            return cand
    # A generated header (plugin/deviceplugin.pb-c.h) is in the build tree.
    if path.split('/')[0] in rank:
        return 'src/' + path
    return None

for f in files:
    mine = folder(f)
    if mine not in rank:
        errors.append('%s: not in a folder listed in src/README.md' % f)
        continue
    text = open(os.path.join(top, f), encoding='utf-8', errors='replace').read()
    for m in inc.finditer(text):
        target = resolve(f, m.group(1))
        if target is None:
            continue
        theirs = folder(target)
        if theirs not in rank:
            errors.append('%s: #include "%s": %s is not in a folder listed in src/README.md'
                          % (f, m.group(1), target))
        elif rank[theirs] > rank[mine]:
            errors.append('%s: #include "%s": %s/ is above %s/ in src/README.md'
                          % (f, m.group(1), theirs, mine))
        a, b = os.path.splitext(f)[0], os.path.splitext(target)[0]
        if a != b:
            edges.setdefault(a, {}).setdefault(b, '%s: #include "%s"' % (f, m.group(1)))

# Circles between modules: a depth-first search reports each back edge.
state, stack, seen = {}, [], set()
def visit(a):
    state[a] = 1
    stack.append(a)
    for b in sorted(edges.get(a, ())):
        if state.get(b) == 1:
            loop = stack[stack.index(b):] + [b]
            key = frozenset(loop)
            if key not in seen:
                seen.add(key)
                via = [edges[x][y] for x, y in zip(loop, loop[1:])]
                errors.append('circle %s (%s)' % (' -> '.join(loop), '; '.join(via)))
        elif b not in state:
            visit(b)
    stack.pop()
    state[a] = 2
sys.setrecursionlimit(10000)
for a in sorted(edges):
    if a not in state:
        visit(a)

for e in errors:
    print('layers: ' + e, file=sys.stderr)
print('layers: %d files in %d folders, %d problems' % (len(files), len(order), len(errors)))
sys.exit(1 if errors else 0)
PY
