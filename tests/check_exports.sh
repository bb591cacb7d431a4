#!/bin/sh
# Fails if the shared library exports any symbol that is not ember_*.
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^ember_' | grep -v '^_init$' | grep -v '^_fini$')
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^ember_')
if [ -n "$bad" ]; then
  echo "non-ember symbols exported:"; echo "$bad"; exit 1
fi
if [ "$count" -lt 50 ]; then
  echo "only $count ember_* symbols exported; expected the whole API"; exit 1
fi
echo "exports ok: $count ember_* symbols"
