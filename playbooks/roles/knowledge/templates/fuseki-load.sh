#!/bin/sh
{{ ansible_managed | comment }}
# Build Fuseki's TDB2 dataset from the pinned RDF dumps when the set of dumps
# differs from the one loaded last. Prints LOADED when it loaded (Ansible's
# changed_when), "up to date" otherwise. Fuseki is stopped meanwhile.
set -eu
db={{ knowledge_db }}
stamp="$db.sha256"
unit=fuseki.service
files="{% for d in knowledge_datasets %}{{ knowledge_data_dir }}/{{ d.url | basename }} {% endfor %}"

want="$( { echo "$files"; for f in $files; do sha256sum "$f"; done; } | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ -d "$db" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "fuseki-load: dataset up to date ($want)"
  exit 0
fi
was_active=0
if systemctl is-active --quiet "$unit"; then was_active=1; systemctl stop "$unit"; fi
rm -rf "$db" "$stamp"
install -d -o {{ knowledge_user }} -g {{ knowledge_user }} -m 0750 "$db"
if [ -n "$files" ]; then
  # tdb2.tdbloader reads .gz and .bz2 directly.
  runuser -u {{ knowledge_user }} -- env JVM_ARGS=-Xmx{{ fuseki_heap }} \
    {{ jena_home }}/bin/tdb2.tdbloader --loc="$db" $files
fi
echo "$want" > "$stamp"
if [ "$was_active" = 1 ]; then systemctl start "$unit"; fi
echo "fuseki-load: LOADED into $db ($want)"
