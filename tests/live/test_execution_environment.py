# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""execution-environment.yml: ansible-builder turns it into a build context (no container engine needed for that).

`ansible-builder build` itself needs podman or docker and a base image from a registry this
machine cannot reach; what can be proven here is everything up to it: the definition is valid
v3, the build context holds the collection tarball and installs it, and ansible-builder's own
introspection finds the Python and system requirements in meta/execution-environment.yml.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from conftest import BIN_DIR, COLLECTION_ROOT


def _builder(args, cwd):
    return subprocess.run([os.path.join(BIN_DIR, 'ansible-builder')] + args, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def test_definition_matches_the_collection():
    definition = yaml.safe_load(_read(os.path.join(COLLECTION_ROOT, 'execution-environment.yml')))
    version = yaml.safe_load(_read(os.path.join(COLLECTION_ROOT, 'galaxy.yml')))['version']
    tarball = 'oci-registry-%s.tar.gz' % version
    assert definition['version'] == 3
    assert definition['dependencies']['galaxy']['collections'] == [{'name': '/build/collections/' + tarball, 'type': 'file'}]
    assert definition['additional_build_files'] == [{'src': 'ee-build/' + tarball, 'dest': 'collections'}]
    meta = yaml.safe_load(_read(os.path.join(COLLECTION_ROOT, 'meta', 'execution-environment.yml')))
    assert meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}
    build_ignore = yaml.safe_load(_read(os.path.join(COLLECTION_ROOT, 'galaxy.yml')))['build_ignore']
    assert {'execution-environment.yml', 'ee-build', 'context'} <= set(build_ignore)


def test_ansible_builder_create(installed_collection, tmp_path):
    tarball = os.path.join(os.path.dirname(installed_collection), 'oci-registry-0.1.0.tar.gz')
    shutil.copy(os.path.join(COLLECTION_ROOT, 'execution-environment.yml'), tmp_path)
    (tmp_path / 'ee-build').mkdir()
    shutil.copy(tarball, tmp_path / 'ee-build')

    proc = _builder(['create', '--file', 'execution-environment.yml', '--context', 'context', '--output-filename', 'Containerfile'],
                    str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    context = tmp_path / 'context'
    with open(tarball, 'rb') as want, open(context / '_build' / 'collections' / 'oci-registry-0.1.0.tar.gz', 'rb') as have:
        assert want.read() == have.read()
    assert yaml.safe_load((context / '_build' / 'requirements.yml').read_text()) == {
        'collections': [{'name': '/build/collections/oci-registry-0.1.0.tar.gz', 'type': 'file'}]}
    containerfile = (context / 'Containerfile').read_text()
    for expected in ('ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"',
                     'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16,<2.20 ansible-runner>=2.4,<3"',
                     'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml',
                     'introspect.py introspect', 'LABEL ansible-execution-environment=true'):
        assert expected in containerfile, expected


def test_introspection_finds_the_collection_requirements(installed_collection):
    """What the builder stage of the image runs over the installed collections (introspect.py)."""
    proc = _builder(['introspect', installed_collection], COLLECTION_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout.split('---', 1)[1])
    wanted = [line.strip() for line in _read(os.path.join(COLLECTION_ROOT, 'requirements.txt')).splitlines()
              if line.strip() and not line.startswith('#')]
    assert found['python'] == ['%s  # from collection oci.registry' % line for line in wanted]
    assert found['system'] == ['python3-requests [platform:dpkg]  # from collection oci.registry',
                               'python3-cryptography [platform:dpkg]  # from collection oci.registry']
