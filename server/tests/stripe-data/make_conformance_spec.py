#!/usr/bin/env python3
"""Writes openapi-2023-08-16-conformance.json, the spec `sandbox_conformance`
measures the sandbox against: Stripe's OpenAPI subset for API version
2023-08-16 (../../../../shared/stripe-data/openapi-2023-08-16-subset.json by
default, or the path given) with descriptions, titles and summaries removed,
written compact. Nothing else changes: every path, operation, parameter
and schema stays.

    python3 server/tests/stripe-data/make_conformance_spec.py [SUBSET.json]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "../../../../shared/stripe-data/openapi-2023-08-16-subset.json")
DROP = {"description", "title", "summary", "x-stripeResource", "x-stripeOperations", "x-resourceId"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(x) for x in node]
    return node


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(src, encoding="utf-8") as f:
        spec = json.load(f)
    out = os.path.join(HERE, "openapi-2023-08-16-conformance.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(strip(spec), f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"{out}: API version {spec['info']['version']}, {len(spec['paths'])} paths")


if __name__ == "__main__":
    main()
