#!/bin/sh
{{ ansible_managed | comment }}
# Fuseki STAND-IN loader: (re)build the Oxigraph store from the Turtle fixture
# when the fixture differs from the one loaded last. Prints LOADED when it
# loaded (Ansible's changed_when), "up to date" otherwise.
set -eu
fixture={{ knowledge_standin_dir }}/knowledge-standin-fixture.ttl
store={{ knowledge_standin_store }}
stamp="$store.sha256"
unit=fuseki-standin.service

want="$(sha256sum "$fixture" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ -d "$store" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "fuseki-standin-load: store up to date ($want)"
  exit 0
fi
was_active=0
if systemctl is-active --quiet "$unit"; then was_active=1; systemctl stop "$unit"; fi
rm -rf "$store" "$stamp"
install -d -o {{ knowledge_user }} -g {{ knowledge_user }} -m 0750 "$store"
runuser -u {{ knowledge_user }} -- {{ knowledge_standin_dir }}/venv/bin/oxigraph load --location "$store" --file "$fixture"
echo "$want" > "$stamp"
if [ "$was_active" = 1 ]; then systemctl start "$unit"; fi
echo "fuseki-standin-load: LOADED $fixture ($want)"
