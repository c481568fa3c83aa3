#!/usr/bin/env python3
"""Turns criterion's saved results into docs/benchmarks.md tables and a chart.

Usage: cargo bench && python3 scripts/bench-report.py

Reads target/criterion/<group>/<function>/new/{benchmark,estimates}.json,
writes docs/benchmarks.svg (one bar per function, grouped, throughput relative
to the fastest in its group; handoff's bars in a colour of their own) and
replaces the part of docs/benchmarks.md between the results markers with one
table per group: median time per element, throughput, and how handoff's best
entry compares with each entry. Uses only the standard library.
"""
import json
import os
import sys
from html import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRITERION = os.path.join(ROOT, 'target', 'criterion')
DOC = os.path.join(ROOT, 'docs', 'benchmarks.md')
SVG = os.path.join(ROOT, 'docs', 'benchmarks.svg')
BEGIN, END = '<!-- results:begin -->', '<!-- results:end -->'


def load():
    """{group: [(function, median_ns, elements)]} in directory order."""
    groups = {}
    for dirpath, _dirs, files in sorted(os.walk(CRITERION)):
        if os.path.basename(dirpath) != 'new' or 'benchmark.json' not in files:
            continue
        bench = json.load(open(os.path.join(dirpath, 'benchmark.json')))
        est = json.load(open(os.path.join(dirpath, 'estimates.json')))
        elements = (bench.get('throughput') or {}).get('Elements', 1)
        name = bench['function_id'] + (f"/{bench['value_str']}" if bench.get('value_str') else '')
        groups.setdefault(bench['group_id'], []).append(
            (name, est['median']['point_estimate'], elements))
    return groups


def per_second(median_ns, elements):
    return elements / median_ns * 1e9


def human(rate):
    for unit, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if rate >= scale:
            return f'{rate / scale:.2f} {unit}/s'
    return f'{rate:.1f} /s'


def human_time(ns):
    for unit, scale in (('s', 1e9), ('ms', 1e6), ('µs', 1e3)):
        if ns >= scale:
            return f'{ns / scale:.2f} {unit}'
    return f'{ns:.2f} ns'


def tables(groups):
    out = []
    for group, rows in groups.items():
        ours = [r for r in rows if r[0].startswith('handoff')]
        best = max((per_second(m, e) for _, m, e in ours), default=None)
        out.append(f'### {group}\n')
        out.append('| function | median per element | throughput | handoff best ÷ this |')
        out.append('|---|---|---|---|')
        for name, median, elements in sorted(rows, key=lambda r: -per_second(r[1], r[2])):
            rate = per_second(median, elements)
            ratio = f'{best / rate:.2f}×' if best else '—'
            out.append(f'| {name} | {human_time(median / elements)} | {human(rate)} | {ratio} |')
        out.append('')
    return '\n'.join(out)


def chart(groups):
    width, label_w, row_h, gap = 960, 330, 20, 26
    height = gap + sum(gap + row_h * len(r) for r in groups.values()) + 10
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="18" font-size="14" font-weight="bold">'
           f'Throughput relative to the fastest in each group (longer is better)</text>']
    y = gap
    for group, rows in groups.items():
        y += gap
        svg.append(f'<text x="10" y="{y - 8}" font-weight="bold">{escape(group)}</text>')
        top = max(per_second(m, e) for _, m, e in rows)
        for name, median, elements in sorted(rows, key=lambda r: -per_second(r[1], r[2])):
            rate = per_second(median, elements)
            w = max(1, (width - label_w - 120) * rate / top)
            colour = '#d9480f' if name.startswith('handoff') else '#868e96'
            svg.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>')
            svg.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>')
            svg.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{human(rate)}</text>')
            y += row_h
    svg.append('</svg>')
    return '\n'.join(svg) + '\n'


def main():
    groups = load()
    if not groups:
        sys.exit('no criterion results under target/criterion: run `cargo bench` first')
    open(SVG, 'w').write(chart(groups))
    doc = open(DOC).read() if os.path.exists(DOC) else f'# Benchmarks\n\n{BEGIN}\n{END}\n'
    if BEGIN not in doc:
        doc += f'\n{BEGIN}\n{END}\n'
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    open(DOC, 'w').write(f'{head}{BEGIN}\n\n{tables(groups)}\n{END}{tail}')
    print(f'wrote {os.path.relpath(SVG, ROOT)} and the tables in {os.path.relpath(DOC, ROOT)}')


if __name__ == '__main__':
    main()
