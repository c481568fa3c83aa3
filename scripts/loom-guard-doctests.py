#!/usr/bin/env python3
"""Wraps every Rust doctest under src/ so it compiles to an empty program under
`--features loom` (where the crate's atomics are loom's and only work inside a
model). Idempotent: already-guarded examples are left alone."""
import glob
import re
import sys

GUARD = '# #[cfg(not(feature = "loom"))] fn main() {'
OPEN = re.compile(r'^(\s*)(//[/!]) ```(\w*)\s*$')
CLOSE = re.compile(r'^\s*//[/!] ```\s*$')

def guard(path):
    lines = open(path).read().split('\n')
    out, i = [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            out.append(lines[i]); i += 1; continue
        ind, pre, lang = m.groups()
        j = i + 1
        while not CLOSE.match(lines[j]):
            j += 1
        body = lines[i + 1:j]
        rust = lang in ('', 'rust', 'compile_fail', 'should_panic', 'no_run')
        done = any(GUARD in b for b in body)
        out.append(lines[i])
        if rust and not done:
            # A compile_fail example must fail under loom too: there its
            # stand-in main is a compile error.
            loom_main = ('fn main() { compile_error!("not built under loom"); }'
                         if lang == 'compile_fail' else 'fn main() {}')
            out.append(f'{ind}{pre} {GUARD}')
            out.extend(body)
            out.append(f'{ind}{pre} # }}')
            out.append(f'{ind}{pre} # #[cfg(feature = "loom")] {loom_main}')
        else:
            out.extend(body)
        out.append(lines[j])
        i = j + 1
    open(path, 'w').write('\n'.join(out))

for p in sys.argv[1:] or glob.glob('src/**/*.rs', recursive=True):
    guard(p)
