#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gtkdoc-build.py: build the gtk-doc manual once per change of its inputs.

meson's gnome.gtkdoc() runs the whole gtk-doc chain on every `meson compile` and again at
`meson install`. This script runs the same chain (scan, scangobj, mkdb, mkhtml, fixxref) from
a custom_target whose inputs meson knows, so ninja runs it only when a header, a source, a
chapter or the library changed, and the install step only copies the html/ directory.

Two things gtk-doc 1.33 gets wrong are fixed on the way:
 - fixxref highlights every <informalexample> as C, whatever its language attribute says
   (the attribute does not survive the stylesheets): the listings whose language is not C
   are marked in mkdb's output and highlighted here with their own pygments lexer;
 - links into the GLib/GObject/GIO manuals are written relative (../glib/...), which only
   resolves when the manual is installed next to GLib's: here they are absolute paths of
   the GLib manuals found at build time; the install step (--install) turns them relative
   again when the manual is installed into the same gtk-doc directory as GLib's.
"""

import argparse
import html
import os
import re
import shutil
import subprocess
import sys

MARK = 'GTKDOC-BUILD-LANGUAGE:'
GLIB_MANUALS = ('glib', 'gobject', 'gio')


def run(cmd, cwd, env=None):
    print('+', ' '.join(cmd), flush=True)
    res = subprocess.run(cmd, cwd=cwd, env=env)
    if res.returncode != 0:
        sys.exit(f'gtkdoc-build: {cmd[0]} failed with status {res.returncode}')


def mark_listings(xml_dir):
    """Put a marker naming the language in front of every non-C programlisting."""
    pat = re.compile(r'(<programlisting\b[^>]*\blanguage="([^"]+)"[^>]*>)(<!\[CDATA\[)?')

    def repl(m):
        lang = m.group(2).lower()
        if lang == 'c':
            return m.group(0)
        # inside CDATA or not, the marker is plain text
        return m.group(1) + (m.group(3) or '') + MARK + lang + '\n'

    for name in sorted(os.listdir(xml_dir)):
        if not name.endswith('.xml'):
            continue
        path = os.path.join(xml_dir, name)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = pat.sub(repl, text)
        if new != text:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(new)


def highlight_marked(html_dir):
    """Highlight the marked listings with their language's lexer, in gtk-doc's layout (which
    fixxref then leaves alone: its pattern wants the <pre> right after the <div>)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name

    formatter = HtmlFormatter(nowrap=True)
    pat = re.compile(r'<div class="(informalexample|example-contents)"><pre class="programlisting">'
                     + re.escape(MARK) + r'([A-Za-z0-9_+-]+)\n(.*?)</pre></div>', re.DOTALL)
    left = 0

    def repl(m):
        source = html.unescape(m.group(3)).strip('\n').rstrip()
        code = highlight(source, get_lexer_by_name(m.group(2)), formatter).rstrip('\n')
        numbers = '\n'.join(str(i) for i in range(1, code.count('\n') + 2))
        return (f'<div class="{m.group(1)}">\n'
                '  <table class="listing_frame" border="0" cellpadding="0" cellspacing="0">\n'
                '    <tbody>\n'
                '      <tr>\n'
                f'        <td class="listing_lines" align="right"><pre>{numbers}</pre></td>\n'
                f'        <td class="listing_code"><pre class="programlisting lang-{m.group(2)}">'
                f'{code}</pre></td>\n'
                '      </tr>\n'
                '    </tbody>\n'
                '  </table>\n'
                '</div>')

    for name in sorted(os.listdir(html_dir)):
        if not name.endswith('.html'):
            continue
        path = os.path.join(html_dir, name)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = pat.sub(repl, text)
        left += new.count(MARK)
        if new != text:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(new)
    if left:
        sys.exit(f'gtkdoc-build: {left} marked listings are not in an informalexample or example')


def fix_links(html_dir, glib_docdir):
    """GLib links absolute; "Since:" links to the version index without the fragment
    mkdb gives them (#api-index-0.1: the id of an indexdiv no page carries)."""
    pat = re.compile(r'href="\.\./(' + '|'.join(GLIB_MANUALS) + r')/')
    since = re.compile(r'href="(api-index-[0-9-]+\.html)#api-index-[0-9.]+"')
    for name in sorted(os.listdir(html_dir)):
        if not name.endswith('.html'):
            continue
        path = os.path.join(html_dir, name)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = pat.sub(lambda m: f'href="{glib_docdir}/{m.group(1)}/', text)
        new = since.sub(r'href="\1"', new)
        if new != text:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(new)


def install(args):
    """At install: copy html/, with relative links into GLib's manuals when installed next
    to them."""
    html_dir = args.install_dir
    dest = os.environ.get('DESTDIR', '')
    full = dest + html_dir if dest else html_dir
    print(f'Installing {args.install} to {full}')
    shutil.rmtree(full, ignore_errors=True)
    shutil.copytree(args.install, full)
    if os.path.dirname(html_dir.rstrip('/')) != args.glib_docdir.rstrip('/'):
        return
    pat = re.compile(r'href="' + re.escape(args.glib_docdir.rstrip('/')) + r'/('
                     + '|'.join(GLIB_MANUALS) + r')/')
    for name in sorted(os.listdir(full)):
        if name.endswith('.html'):
            path = os.path.join(full, name)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            new = pat.sub(lambda m: f'href="../{m.group(1)}/', text)
            if new != text:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(new)


def build(args):
    out = args.outdir
    module = args.module
    for f in args.content + [args.main, args.types]:
        shutil.copyfile(f, os.path.join(out, os.path.basename(f)))
    src_dirs = [f'--source-dir={d}' for d in args.source_dir]

    run(['gtkdoc-scan', f'--module={module}', *src_dirs,
         '--ignore-headers=' + ' '.join(args.ignore_headers), *args.scan_arg], out)

    env = dict(os.environ)
    env['LD_LIBRARY_PATH'] = os.pathsep.join(
        [args.libdir] + ([env['LD_LIBRARY_PATH']] if env.get('LD_LIBRARY_PATH') else []))
    run(['gtkdoc-scangobj', f'--types={os.path.basename(args.types)}', f'--module={module}',
         f'--cflags={args.cflags}', f'--ldflags={args.ldflags}', f'--cc={args.cc}',
         f'--ld={args.cc}', f'--output-dir={out}'], out, env)

    run(['gtkdoc-mkdb', f'--module={module}', '--output-format=xml', '--xml-mode',
         '--expand-content-files=' + ' '.join(args.expand), *src_dirs,
         f'--main-sgml-file={os.path.basename(args.main)}', *args.mkdb_arg], out)
    mark_listings(os.path.join(out, 'xml'))

    tmp = os.path.join(out, 'html.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    os.mkdir(tmp)
    run(['gtkdoc-mkhtml', '--path=' + os.pathsep.join([args.srcdir, out]), module,
         '../' + os.path.basename(args.main)], tmp)
    highlight_marked(tmp)
    run(['gtkdoc-fixxref', f'--module={module}', '--module-dir=html.tmp',
         f'--html-dir={args.install_dir}',
         *[f'--extra-dir={args.glib_docdir}/{m}' for m in GLIB_MANUALS]], out)
    fix_links(tmp, args.glib_docdir)

    final = os.path.join(out, 'html')
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--module', required=True)
    p.add_argument('--srcdir', help='the manual\'s source directory')
    p.add_argument('--outdir', help='the manual\'s build directory')
    p.add_argument('--main')
    p.add_argument('--types')
    p.add_argument('--content', action='append', default=[])
    p.add_argument('--expand', action='append', default=[])
    p.add_argument('--source-dir', action='append', default=[])
    p.add_argument('--ignore-headers', action='append', default=[])
    p.add_argument('--scan-arg', action='append', default=[])
    p.add_argument('--mkdb-arg', action='append', default=[])
    p.add_argument('--cc')
    p.add_argument('--cflags', default='')
    p.add_argument('--ldflags', default='')
    p.add_argument('--libdir', help='where the built shared library is')
    p.add_argument('--install-dir', required=True)
    p.add_argument('--glib-docdir', required=True)
    p.add_argument('--install', metavar='HTML_DIR', help='the install step: copy HTML_DIR')
    args = p.parse_args()
    # meson passes the files relative to the build root, where ninja runs this
    args.content = [os.path.abspath(f) for f in args.content]
    args.expand = [os.path.abspath(f) for f in args.expand]
    for name in ('main', 'types', 'srcdir', 'outdir', 'libdir'):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    if args.install:
        install(args)
    else:
        build(args)


if __name__ == '__main__':
    main()
