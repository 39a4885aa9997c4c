# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""House rules about the shape of the code, checked on every file of plugins/.

- No function grows past 60 lines: past that a function does more than one thing.
- One home per concern: hashing only in the digest module; registry host names only in the vendor
  module (a module's DOCUMENTATION, EXAMPLES and RETURN, docstrings and comments may name hosts,
  code may not); Transports built only by the client.
- No ``type: ignore``: a type the checker cannot follow is fixed, not silenced.
- Comments and docstrings give the reason in place: no issue numbers, and no files a newcomer
  cannot open (a document or a path that does not exist in the repository).

Each rule is a checker over one file's text, run on every file, and proven by a self-test that
plants a violation and expects the checker to report it.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import typing as t

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, 'plugins')
MAX_FUNCTION_LINES = 60
DIGEST_HOME = 'plugins/module_utils/model/_digest.py'
VENDOR_HOME = 'plugins/module_utils/model/_vendors.py'
TRANSPORT_BUILDERS = 'plugins/module_utils/client/'

# Registry hosts of the vendors the collection knows or names (a dot may be written escaped, as in a regex).
VENDOR_DOMAINS = ('docker.io', 'docker.com', 'gcr.io', 'pkg.dev', 'amazonaws.com', 'ghcr.io', 'quay.io', 'azurecr.io', 'googleapis.com',
                  'gitlab.com', 'icr.io', 'ocir.io', 'jfrog.io')
_DOT = r'(?:\\?\.)'
REGISTRY_HOST = re.compile(r'(?<![\w-])(?:[\w-]+%s)*(?:%s)(?![\w-])' % (_DOT, '|'.join(d.replace('.', _DOT) for d in VENDOR_DOMAINS)), re.IGNORECASE)
DOC_STRINGS = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')

# Issue trackers: "issue 21", "issue #21", "(issue", "bug 7", "PR 12", "fixes #3", GitHub issue and pull URLs.
ISSUE_CITATION = re.compile(r'\b(?:issues?|bugs?|tickets?|pull requests?|PRs?)\s*#?\s*\d+\b|\(issue\b'
                            r'|\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|see|refs?)\s+#\d+\b|\bGH-\d+\b'
                            r'|github\.com/[\w.-]+/[\w.-]+/(?:issues|pull)/\d+', re.IGNORECASE)
# A document (any path ending .md/.rst/.txt/.adoc) or a repository path (with a "/", ending in a source
# or config extension). A path on the user's machine (after "/", "~" or "$VAR/") is not a citation.
CITED_DOCUMENT = re.compile(r'(?<![\w./~$-])((?:[\w.-]+/)*[\w.-]+\.(?:md|rst|txt|adoc))\b')
CITED_PATH = re.compile(r'(?<![\w./~$-])((?:[\w.-]+/)+[\w.-]+\.(?:py|ya?ml|sh|cfg|toml|json|ini))\b')


def plugin_files() -> t.Iterator[str]:
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.relpath(os.path.join(directory, name), ROOT)


def repository_files() -> t.Set[str]:
    found = set()
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in ('.git', '__pycache__')]
        found.update(os.path.relpath(os.path.join(directory, name), ROOT) for name in files)
    return found


FILES = sorted(plugin_files())
REPOSITORY = repository_files()


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return handle.read()


# The checkers: each takes a file's text and returns what breaks its rule ([] when nothing does).

def long_functions(source: str) -> t.List[str]:
    return ['%s (%d lines)' % (node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def hashing(source: str) -> t.List[str]:
    """Imports of hashlib (``import hashlib``, ``from hashlib import ...``, ``__import__('hashlib')``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or '']
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ('__import__', 'import_module'):
            names = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        found.extend('%d: %s' % (node.lineno, name) for name in names if name.split('.')[0] == 'hashlib')
    return found


def _documentation_nodes(tree: ast.AST) -> t.Set[int]:
    """Docstrings, and the strings assigned to DOCUMENTATION, EXAMPLES and RETURN: prose that may name hosts."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            found.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id in DOC_STRINGS for target in node.targets):
            found.add(id(node.value))
    return found


def registry_hosts(source: str) -> t.List[str]:
    """Registry host names in the code's strings (docstrings, module docs and comments aside)."""
    tree = ast.parse(source)
    prose = _documentation_nodes(tree)
    return ['%d: %s' % (node.lineno, found.group(0)) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
            for found in REGISTRY_HOST.finditer(node.value)]


def transports_built(source: str) -> t.List[str]:
    """Calls that construct a Transport (``Transport(...)``, ``_transport.Transport(...)``)."""
    return ['%d: Transport(...)' % node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
            and ((isinstance(node.func, ast.Name) and node.func.id == 'Transport')
                 or (isinstance(node.func, ast.Attribute) and node.func.attr == 'Transport'))]


def type_ignores(source: str) -> t.List[str]:
    """Comments that silence the type checker (``# type: ignore`` with or without codes)."""
    return ['%d: %s' % (token.start[0], token.string) for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT and re.search(r'type:\s*ignore', token.string)]


def outside_citations(source: str, repository: t.AbstractSet[str] = frozenset(REPOSITORY)) -> t.List[str]:
    """Issue numbers, and documents or repository paths that do not exist in ``repository`` (paths from its root)."""
    names = {os.path.basename(path) for path in repository}

    def exists(cited: str) -> bool:
        cited = os.path.normpath(cited)
        if '/' not in cited:
            return cited in names
        return any(path == cited or path.endswith('/' + cited) for path in repository)

    found = []
    for number, line in enumerate(source.splitlines(), 1):
        found.extend('%d: %s' % (number, m.group(0)) for m in ISSUE_CITATION.finditer(line))
        found.extend('%d: %s' % (number, m.group(1)) for pattern in (CITED_DOCUMENT, CITED_PATH)
                     for m in pattern.finditer(line) if not exists(m.group(1)))
    return found


# The rules over every file

@pytest.mark.parametrize('path', FILES)
def test_functions_stay_short(path: str) -> None:
    assert long_functions(read(path)) == []


@pytest.mark.parametrize('path', [path for path in FILES if path != DIGEST_HOME])
def test_hashing_only_in_the_digest_module(path: str) -> None:
    assert hashing(read(path)) == [], 'hash through %s (compute_digest, DigestCheck, ...)' % DIGEST_HOME


@pytest.mark.parametrize('path', [path for path in FILES if path != VENDOR_HOME])
def test_registry_host_names_only_in_the_vendor_module(path: str) -> None:
    assert registry_hosts(read(path)) == [], 'name hosts through %s' % VENDOR_HOME


@pytest.mark.parametrize('path', [path for path in FILES if not path.startswith(TRANSPORT_BUILDERS)])
def test_transports_built_only_by_the_client(path: str) -> None:
    assert transports_built(read(path)) == [], 'ask RegistryClient for a transport'


@pytest.mark.parametrize('path', FILES)
def test_no_type_ignore(path: str) -> None:
    assert type_ignores(read(path)) == []


@pytest.mark.parametrize('path', FILES + ['meta/runtime.yml'])
def test_no_citations_a_newcomer_cannot_follow(path: str) -> None:
    assert outside_citations(read(path)) == []


# The checkers themselves: each finds a planted violation, and passes what the rule allows

def test_checker_finds_a_long_function() -> None:
    body = ''.join('    x%d = %d\n' % (i, i) for i in range(MAX_FUNCTION_LINES))
    assert long_functions('def short():\n    return 1\n') == []
    assert long_functions('def planted():\n' + body) == ['planted (%d lines)' % (MAX_FUNCTION_LINES + 1)]


@pytest.mark.parametrize('planted', ['import hashlib\n', 'import hashlib as h\n', 'from hashlib import sha256\n',
                                     "x = __import__('hashlib')\n", 'import os, hashlib\n'])
def test_checker_finds_hashing(planted: str) -> None:
    assert hashing(planted) == ['1: hashlib']
    assert hashing('from ._digest import compute_digest\n# hashlib is used in _digest only\n') == []


@pytest.mark.parametrize('planted,host', [
    ("HOST = 'registry-1.docker.io'\n", 'registry-1.docker.io'),
    ("if registry.endswith('.gcr.io'):\n    pass\n", 'gcr.io'),
    ("PATTERN = r'^[a-z0-9-]+-docker\\.pkg\\.dev$'\n", '-docker\\.pkg\\.dev'),
    ("msg = f'log in to ghcr.io as {user}'\n", 'ghcr.io'),
    ("ECR = '123.dkr.ecr.us-east-1.amazonaws.com'\n", '123.dkr.ecr.us-east-1.amazonaws.com'),
])
def test_checker_finds_registry_hosts_in_code(planted: str, host: str) -> None:
    assert registry_hosts(planted) == ['1: %s' % host]


def test_checker_lets_documentation_name_hosts() -> None:
    allowed = ('"""Talks to docker.io and quay.io."""\n'
               "DOCUMENTATION = r'''\nregistry: docker.io\n'''\n"
               "EXAMPLES = 'image: quay.io/team/app'\n"
               'def f():\n    """gcr.io too."""\n    return 1  # and ghcr.io in a comment\n'
               "HOST = 'registry.example.com'\n")
    assert registry_hosts(allowed) == []


@pytest.mark.parametrize('planted', ['t = Transport(url, registry, options, log, auth)\n',
                                     't = _transport.Transport(url, registry, options, log, auth)\n'])
def test_checker_finds_a_transport_built(planted: str) -> None:
    assert transports_built(planted) == ['1: Transport(...)']
    assert transports_built('t = client.transport(ref)\nTransportError = None\n') == []


@pytest.mark.parametrize('planted', ['x = f()  # type: ignore\n', 'x = f()  # type: ignore[arg-type]\n', 'x = f()  #type:ignore\n'])
def test_checker_finds_type_ignore(planted: str) -> None:
    assert type_ignores(planted) == ['1: %s' % planted.split('  ', 1)[1].strip()]
    assert type_ignores("TEXT = 'type: ignore is refused in comments, not in strings'\n") == []


@pytest.mark.parametrize('planted,cited', [
    ('# see issue 21 for why\n', 'issue 21'),
    ('# workaround for issue #7\n', 'issue #7'),
    ('# kept (issue: rate limits)\n', '(issue'),
    ('# fixes #12\n', 'fixes #12'),
    ('"""Bug 3 again."""\n', 'Bug 3'),
    ('# https://github.com/acme/registry/issues/5\n', 'github.com/acme/registry/issues/5'),
    ('# as planned in DESIGN.md\n', 'DESIGN.md'),
    ('# the note in ROADMAP.md says so\n', 'ROADMAP.md'),
    ('# see notes/sync-plan.md\n', 'notes/sync-plan.md'),
    ('# see docs/old/design.txt\n', 'docs/old/design.txt'),
    ('# moved from plugins/module_utils/_gone.py\n', 'plugins/module_utils/_gone.py'),
])
def test_checker_finds_citations(planted: str, cited: str) -> None:
    assert outside_citations(planted, frozenset({'README.md', 'plugins/module_utils/model/_digest.py'})) == ['1: %s' % cited]


def test_checker_lets_repository_files_and_user_paths_be_named() -> None:
    allowed = ('# README.md and plugins/module_utils/model/_digest.py explain it; model/_digest.py too\n'
               '# docker writes ~/.docker/config.json and $XDG_RUNTIME_DIR/containers/auth.json, not /etc/x/notes.txt\n'
               '# not among the 10 newest (#12); 4 issues remain\n')
    assert outside_citations(allowed, frozenset({'README.md', 'plugins/module_utils/model/_digest.py'})) == []
