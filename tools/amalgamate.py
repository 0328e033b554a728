#!/usr/bin/env python3
"""Generates polar-cpp's single headers from include/.

    python3 tools/amalgamate.py            # (re)writes single_include/
    python3 tools/amalgamate.py --check    # exits 1 if single_include/ is stale

Outputs (they mirror the include/ paths, so code written against include/
compiles unchanged with -I single_include instead of -I include):

    single_include/polar/polar.hpp            <polar/polar.hpp>: the client,
                                              models, errors, retry
    single_include/polar/testing/emulator.hpp <polar/testing/emulator.hpp>:
                                              the emulator; includes
                                              "../polar.hpp" first

The SDK's header never contains anything from polar/testing/ (an error if it
would), as <polar/src.hpp> does not compile the emulator.

The single headers are header-only. Every `#include <polar/...>` is replaced by
the included file's text, at most once per preprocessor context: an include
is dropped when the same file was already inlined under the same (or an
enclosing) set of #if conditions, e.g. the .ipp files that each public header
includes under `#ifdef POLAR_HEADER_ONLY`. Include guards are kept, so a file
that must be inlined twice (first under a condition, then unconditionally)
is still compiled once. System, Boost and OpenSSL includes are kept as they
are. The output depends only on the input files (no dates, no absolute paths).

Regenerate and commit single_include/ whenever a header under include/
changes; the `single_header_fresh` test fails while it is stale.
"""

import argparse
import os
import re
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])(polar/[^>"]+)[>"]')
ANY_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
DIRECTIVE_RE = re.compile(r'^\s*#\s*([A-Za-z_]+)\b(.*)$', re.S)
VERSION_RE = re.compile(r'#\s*define\s+POLAR_VERSION_STRING\s+"([^"]+)"')


class AmalgamationError(Exception):
    pass


def strip_comments(text):
    """Removes // and /* */ comments from one logical directive line."""
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return text.split('//', 1)[0]


def normalize(directive):
    return ' '.join(strip_comments(directive).split())


class Lexer:
    """Tracks, line by line, whether a line starts inside a block comment or a
    raw string literal, so that only real preprocessor lines are treated as
    directives."""

    RAW_OPEN = re.compile(r'(?:u8|u|U|L)?R"([^()\\\s"]{0,16})\(')

    def __init__(self):
        self.block_comment = False
        self.raw_end = None  # ')delim"' while inside a raw string

    def in_code_at_line_start(self):
        return not self.block_comment and self.raw_end is None

    @staticmethod
    def is_digit_separator(line, i):
        """True if the ' at line[i] is a digit separator (1'000), not the
        start of a character literal ('x', u8'x', L'x')."""
        j = i
        while j > 0 and (line[j - 1].isalnum() or line[j - 1] == '_'):
            j -= 1
        token = line[j:i]
        return bool(token) and token[0].isdigit()

    def feed(self, line):
        i, n = 0, len(line)
        while i < n:
            if self.block_comment:
                j = line.find('*/', i)
                if j < 0:
                    return
                self.block_comment = False
                i = j + 2
                continue
            if self.raw_end is not None:
                j = line.find(self.raw_end, i)
                if j < 0:
                    return
                i = j + len(self.raw_end)
                self.raw_end = None
                continue
            c = line[i]
            if line.startswith('//', i):
                return
            if line.startswith('/*', i):
                self.block_comment = True
                i += 2
                continue
            m = self.RAW_OPEN.match(line, i)
            if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == '_')):
                self.raw_end = ')' + m.group(1) + '"'
                i = m.end()
                continue
            if c == "'" and self.is_digit_separator(line, i):
                i += 1
                continue
            if c == '"' or c == "'":
                j = i + 1
                while j < n and line[j] != c:
                    j += 2 if line[j] == '\\' else 1
                i = j + 1
                continue
            i += 1


def logical_lines(text):
    """Splits text into (physical lines, logical directive text) groups:
    a line ending with a backslash continues on the next one."""
    physical = text.split('\n')
    if physical and physical[-1] == '':
        physical.pop()
    groups = []
    i = 0
    while i < len(physical):
        group = [physical[i]]
        while group[-1].endswith('\\') and i + 1 < len(physical):
            i += 1
            group.append(physical[i])
        groups.append(group)
        i += 1
    return groups


def find_guard(groups):
    """Returns the include guard macro if the file is wrapped in
    #ifndef G / #define G ... #endif, else None."""
    lexer = Lexer()
    directives = []
    for group in groups:
        if lexer.in_code_at_line_start():
            m = DIRECTIVE_RE.match(' '.join(l.rstrip('\\') for l in group))
            if m:
                directives.append((m.group(1), normalize(m.group(2))))
        for line in group:
            lexer.feed(line)
    if len(directives) < 3:
        return None
    (k0, a0), (k1, a1), (kn, _) = directives[0], directives[1], directives[-1]
    if k0 == 'ifndef' and k1 == 'define' and kn == 'endif' and a1.split()[:1] == [a0]:
        # The guard's #endif must close the guard's #ifndef.
        depth = 0
        for i, (kind, _) in enumerate(directives):
            if kind in ('if', 'ifdef', 'ifndef'):
                depth += 1
            elif kind == 'endif':
                depth -= 1
                if depth == 0:
                    return a0 if i == len(directives) - 1 else None
    return None


class Amalgamator:
    def __init__(self, include_dir):
        self.include_dir = include_dir
        self.inlined = {}  # "polar/x.hpp" -> list of condition tuples
        self.files_read = {}

    def read(self, rel):
        if rel not in self.files_read:
            path = os.path.join(self.include_dir, *rel.split('/'))
            if not os.path.isfile(path):
                raise AmalgamationError('cannot find <%s> under %s' % (rel, self.include_dir))
            with open(path, encoding='utf-8') as f:
                self.files_read[rel] = f.read().replace('\r\n', '\n')
        return self.files_read[rel]

    def already_inlined(self, rel, conditions):
        for previous in self.inlined.get(rel, ()):
            if conditions[:len(previous)] == previous:
                return True
        return False

    def inline(self, rel, outer, out, stack):
        """Appends the text of `rel` to `out`. `outer` is the tuple of #if
        conditions (excluding include guards) around the include."""
        if rel in stack:
            raise AmalgamationError('include cycle: %s' % ' -> '.join(stack + [rel]))
        self.inlined.setdefault(rel, []).append(outer)
        text = self.read(rel)
        groups = logical_lines(text)
        guard = find_guard(groups)
        # Each entry: [normalized branch directives], is_guard
        conds = []
        first_directive = True
        lexer = Lexer()
        out.append('// ---- begin <%s> ----\n' % rel)
        for group in groups:
            emitted = False
            if lexer.in_code_at_line_start():
                joined = ' '.join(l.rstrip('\\') for l in group)
                m = DIRECTIVE_RE.match(joined)
                if m:
                    kind, rest = m.group(1), normalize(m.group(2))
                    if kind in ('if', 'ifdef', 'ifndef'):
                        is_guard = first_directive and guard is not None and kind == 'ifndef'
                        conds.append(([normalize('#' + kind + ' ' + rest)], is_guard))
                    elif kind in ('elif', 'else', 'elifdef', 'elifndef'):
                        if not conds:
                            raise AmalgamationError('%s: #%s without #if' % (rel, kind))
                        conds[-1][0].append(normalize('#' + kind + ' ' + rest))
                    elif kind == 'endif':
                        if not conds:
                            raise AmalgamationError('%s: #endif without #if' % rel)
                        conds.pop()
                    elif kind == 'include':
                        inc = INCLUDE_RE.match(joined)
                        if inc:
                            if inc.group(1) == '"':
                                raise AmalgamationError('%s: use <%s>, not quotes' % (rel, inc.group(2)))
                            target = inc.group(2)
                            here = outer + tuple(tuple(c) for c, g in conds if not g)
                            if self.already_inlined(target, here):
                                out.append('// #include <%s>: inlined above\n' % target)
                            else:
                                self.inline(target, here, out, stack + [rel])
                            emitted = True
                        elif ANY_INCLUDE_RE.match(joined):
                            raise AmalgamationError('%s: quoted include %s cannot be amalgamated'
                                                    % (rel, joined.strip()))
                    elif kind == 'pragma' and rest == 'once':
                        raise AmalgamationError('%s: use an include guard, not #pragma once' % rel)
                    first_directive = False
            if not emitted:
                for line in group:
                    out.append(line + '\n')
            for line in group:
                lexer.feed(line)
        if conds:
            raise AmalgamationError('%s: unterminated #if' % rel)
        out.append('// ---- end <%s> ----\n' % rel)


BANNER = """\
//
// polar-cpp {version} single header: {what}.
//
// GENERATED by tools/amalgamate.py from include/{source}; do not edit.
// Regenerate it (python3 tools/amalgamate.py) whenever a header changes.
//
// Header-only. Put the directory that contains polar/ on the include path
// and write `#include <polar/{source_under_polar}>` as with include/. Boost
// (headers only) and OpenSSL are required; compile with -std=c++20 and link
// OpenSSL's ssl and crypto libraries and pthreads.
//
// Boost.JSON's sources are compiled into the TU that includes this header: a
// program with several TUs that include it defines POLAR_NO_BOOST_JSON_SOURCE
// in all of them but one (in all of them when linking libboost_json).
//
"""

SEPARATE_COMPILATION_GUARD = """\
#ifdef POLAR_SEPARATE_COMPILATION
#error "The polar single headers are header-only: for POLAR_SEPARATE_COMPILATION use include/ and <polar/src.hpp>"
#endif

"""


def version_of(include_dir):
    with open(os.path.join(include_dir, 'polar', 'detail', 'config.hpp'), encoding='utf-8') as f:
        m = VERSION_RE.search(f.read())
    if not m:
        raise AmalgamationError('POLAR_VERSION_STRING not found in polar/detail/config.hpp')
    return m.group(1)


def generate(root):
    """Returns {relative output path: text}."""
    include_dir = os.path.join(root, 'include')
    version = version_of(include_dir)
    am = Amalgamator(include_dir)
    outputs = {}

    out = [BANNER.format(version=version, what='the client, models, errors and retry policy',
                         source='polar/polar.hpp', source_under_polar='polar.hpp')]
    out.append('#ifndef POLAR_SINGLE_INCLUDE_POLAR_HPP\n#define POLAR_SINGLE_INCLUDE_POLAR_HPP\n\n')
    out.append(SEPARATE_COMPILATION_GUARD)
    am.inline('polar/polar.hpp', (), out, [])
    out.append('\n#endif // POLAR_SINGLE_INCLUDE_POLAR_HPP\n')
    # The SDK's single header carries no emulator code: that is the other one.
    leaked = sorted(rel for rel in am.inlined if rel.startswith('polar/testing/'))
    if leaked:
        raise AmalgamationError('<polar/polar.hpp> includes the emulator (%s): '
                                'polar/testing/ belongs in the testing header only' % ', '.join(leaked))
    outputs['single_include/polar/polar.hpp'] = ''.join(out)

    out = [BANNER.format(version=version, what='the emulator (polar::testing), for tests and examples',
                         source='polar/testing/emulator.hpp',
                         source_under_polar='testing/emulator.hpp')]
    out.append('#ifndef POLAR_SINGLE_INCLUDE_TESTING_EMULATOR_HPP\n'
               '#define POLAR_SINGLE_INCLUDE_TESTING_EMULATOR_HPP\n\n')
    out.append(SEPARATE_COMPILATION_GUARD)
    out.append('// Everything <polar/polar.hpp> provides is taken from the sibling single header.\n')
    out.append('#include "../polar.hpp"\n\n')
    am.inline('polar/testing/emulator.hpp', (), out, [])
    out.append('\n#endif // POLAR_SINGLE_INCLUDE_TESTING_EMULATOR_HPP\n')
    outputs['single_include/polar/testing/emulator.hpp'] = ''.join(out)

    for path, text in outputs.items():
        for line in text.split('\n'):
            m = INCLUDE_RE.match(line)
            if m:
                raise AmalgamationError('%s: <%s> left unresolved' % (path, m.group(2)))
    return outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='do not write; exit 1 if a committed single header is stale')
    parser.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help='repository root (default: the parent of tools/)')
    args = parser.parse_args(argv)
    try:
        outputs = generate(args.root)
    except AmalgamationError as e:
        print('amalgamate.py: error: %s' % e, file=sys.stderr)
        return 2

    stale = []
    for rel, text in sorted(outputs.items()):
        path = os.path.join(args.root, *rel.split('/'))
        try:
            with open(path, encoding='utf-8', newline='') as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        if args.check:
            stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)
        print('wrote %s (%d lines)' % (rel, text.count('\n')))
    if stale:
        for rel in stale:
            print('amalgamate.py: %s is stale; run: python3 tools/amalgamate.py' % rel, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
