#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares the live introspection of a D-Bus object with a reference XML file.

    check-introspection.py REFERENCE.xml DEST PATH

Compares, per interface of the reference (org.freedesktop.DBus.* are skipped): method
names with the type and direction of each argument, signal names with argument
types, property names with type, access and EmitsChangedSignal. Anything missing or
extra in the live object is reported; exit status 1 if anything differs. Every
property is also read once, to see that its getter works and returns its type."""

import subprocess
import sys
import xml.etree.ElementTree as ET

ECS = 'org.freedesktop.DBus.Property.EmitsChangedSignal'


def parse(xml_text):
    root = ET.fromstring(xml_text)
    ifaces = {}
    for i in root.findall('interface'):
        name = i.get('name')
        if name.startswith('org.freedesktop.DBus.'):
            continue
        methods = {m.get('name'): [(a.get('type'), a.get('direction', 'in'))
                                   for a in m.findall('arg')]
                   for m in i.findall('method')}
        signals = {s.get('name'): [a.get('type') for a in s.findall('arg')]
                   for s in i.findall('signal')}
        props = {}
        for p in i.findall('property'):
            ecs = 'true'
            # An interface-wide annotation is the default for its properties.
            for a in i.findall('annotation'):
                if a.get('name') == ECS:
                    ecs = a.get('value')
            for a in p.findall('annotation'):
                if a.get('name') == ECS:
                    ecs = a.get('value')
            props[p.get('name')] = (p.get('type'), p.get('access'), ecs)
        ifaces[name] = {'method': methods, 'signal': signals, 'property': props}
    return ifaces


def compare(ref, live, what):
    errors = []
    for iface, members in ref.items():
        if iface not in live:
            errors.append(f'{what}: interface {iface} is missing')
            continue
        for kind in ('method', 'signal', 'property'):
            want, have = members[kind], live[iface][kind]
            for n in sorted(set(want) - set(have)):
                errors.append(f'{what}: {iface}: {kind} {n} is missing')
            for n in sorted(set(have) - set(want)):
                errors.append(f'{what}: {iface}: {kind} {n} is not in the reference')
            for n in sorted(set(want) & set(have)):
                if want[n] != have[n]:
                    errors.append(f'{what}: {iface}: {kind} {n}: reference {want[n]}, live {have[n]}')
    for iface in sorted(set(live) - set(ref)):
        errors.append(f'{what}: interface {iface} is not in the reference')
    return errors


def main():
    ref_file, dest, path = sys.argv[1:4]
    with open(ref_file) as f:
        ref = parse(f.read())
    xml_text = subprocess.run(['busctl', 'introspect', '--xml-interface', dest, path],
                              check=True, capture_output=True, text=True).stdout
    live = parse(xml_text)
    # Only the reference's interfaces are ours to check on this object.
    live = {k: v for k, v in live.items() if k in ref or k.startswith('io.podctl.')}
    errors = compare(ref, live, path)
    for iface, members in ref.items():
        for prop, (sig, _, _) in members['property'].items():
            r = subprocess.run(['busctl', 'get-property', dest, path, iface, prop],
                               capture_output=True, text=True)
            got = r.stdout.split(' ', 1)[0] if r.returncode == 0 else None
            if got != sig:
                errors.append(f'{path}: {iface}.{prop}: reading it gave '
                              f'{r.stdout.strip() or r.stderr.strip()!r}, expected type {sig}')
    for e in errors:
        print(e)
    n = sum(len(m[k]) for m in ref.values() for k in m)
    print(f'{path}: {n} members of {", ".join(ref)} compared, {len(errors)} differences')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
