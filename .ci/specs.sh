#!/usr/bin/env bash
# Fetch GitHub's official API descriptions from the npm registry (npm pack, pinned versions) into
# .cache/octokit/ and export where they are, for the tests that check the fake GitHub's routes and
# payload shapes against them:
#   source .ci/specs.sh   -> OCTOKIT_OPENAPI (api.github.com.json), OCTOKIT_WEBHOOK_EXAMPLES (index.json)
set -u
OPENAPI_VERSION=23.0.2
WEBHOOKS_VERSION=7.6.1
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/octokit"
mkdir -p "$dir"
if [ ! -f "$dir/api.github.com.json" ] || [ ! -f "$dir/webhooks-examples.json" ]; then
  (cd "$dir" && npm pack --silent "@octokit/openapi@$OPENAPI_VERSION" "@octokit/webhooks-examples@$WEBHOOKS_VERSION" >/dev/null \
    && tar xzf "octokit-openapi-$OPENAPI_VERSION.tgz" package/generated/api.github.com.json \
    && mv package/generated/api.github.com.json api.github.com.json \
    && tar xzf "octokit-webhooks-examples-$WEBHOOKS_VERSION.tgz" package/api.github.com/index.json \
    && mv package/api.github.com/index.json webhooks-examples.json \
    && rm -rf package ./*.tgz)
fi
export OCTOKIT_OPENAPI="$dir/api.github.com.json"
export OCTOKIT_WEBHOOK_EXAMPLES="$dir/webhooks-examples.json"
echo "GitHub's API descriptions: $OCTOKIT_OPENAPI, $OCTOKIT_WEBHOOK_EXAMPLES"
