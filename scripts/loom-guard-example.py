#!/usr/bin/env python3
"""Makes an example compile to an empty program under `--features loom`.

Loom's atomics only work inside a model, and the crate's API takes them under
the feature, so examples (which `cargo test` builds) would not compile. This
moves everything after the example's doc comment into `mod demo`, guarded by
`cfg(not(feature = "loom"))`, and adds a `main` that calls `demo::main`.
For a criterion bench, `criterion_main!(group)` moves out of the module and
names `demo::group` instead. Idempotent."""
import re
import sys

for path in sys.argv[1:]:
    src = open(path).read()
    if 'mod demo' in src:
        continue
    lines = src.split('\n')
    i = 0
    while i < len(lines) and (lines[i].startswith('//!') or lines[i].startswith('#![')):
        i += 1
    head, body = lines[:i], lines[i:]
    groups = None
    for k, l in enumerate(body):
        m = re.match(r'^criterion_main!\((.*)\);\s*$', l)
        if m:
            groups = [g.strip() for g in m.group(1).split(',') if g.strip()]
            del body[k]
            break
    if groups:
        body = [l.replace(' criterion_main,', '').replace(', criterion_main}', '}') for l in body]
    body = [('    ' + l if l.strip() else '') for l in body]
    if groups:
        named = ', '.join('demo::' + g for g in groups)
        out = head + [
            '',
            '#[cfg(not(feature = "loom"))]',
            f'criterion::criterion_main!({named});',
            '',
            '#[cfg(feature = "loom")]',
            'fn main() {}',
            '',
            '#[cfg(not(feature = "loom"))]',
            'mod demo {',
        ] + body
        while out and not out[-1].strip():
            out.pop()
        out += ['}', '']
        open(path, 'w').write('\n'.join(out))
        continue
    out = head + [
        '',
        'fn main() {',
        '    #[cfg(not(feature = "loom"))]',
        '    demo::main();',
        '    #[cfg(feature = "loom")]',
        '    eprintln!("examples run on real threads: build them without --features loom");',
        '}',
        '',
        '#[cfg(not(feature = "loom"))]',
        'mod demo {',
    ] + body
    while out and not out[-1].strip():
        out.pop()
    out += ['}', '']
    s = '\n'.join(out).replace('\n    fn main()', '\n    pub fn main()')
    open(path, 'w').write(s)
