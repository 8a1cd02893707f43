# new_driver_test — the driver kit end to end, in a temporary copy of the package: `swift package
# new-driver` refuses a bad name, an unknown kind and an existing driver, then makes a driver of
# each kind; the copy builds with them (and `whago drivers` lists them), and each generated
# conformance test runs and fails, as it must until the driver is written, with not_implemented
# naming the driver. Then `swift package check-config`, strict and with placeholders.
#
# The copy builds into this checkout's .build (--scratch-path), so the dependencies are not built
# again; its own targets are, at the copy's paths, so the next build here recompiles them. That is
# why this runs last.

# refuses PATTERN WHAT COMMAND… — COMMAND must fail and say PATTERN; else the run dies naming WHAT.
refuses() {
  local pattern=$1 what=$2 output status=0
  shift 2
  output=$("$@" 2>&1) || status=$?
  [ "$status" -ne 0 ] && grep -q -- "$pattern" <<<"$output" || { echo "$output" >&2; die "$what"; }
}

new_driver_test() {
  local dir="$WHAGO_TEST_DIR/new-driver" copy scratch="$PWD/.build" output status
  copy="$dir/whago"
  mkdir -p "$copy"
  say "testing swift package new-driver in a copy of the package ($copy)"
  # The package's files (tracked, and new ones not ignored), without .build.
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$copy"
  local swiftpm=(swift package --scratch-path "$scratch" --package-path "$copy" --allow-writing-to-package-directory new-driver)

  refuses "is not a valid name" "new-driver accepted the name 9lives" "${swiftpm[@]}" --kind proxy --name 9lives
  refuses "already exists" "new-driver accepted an existing driver's name" "${swiftpm[@]}" --kind proxy --name Static
  refuses "--kind must be one of" "new-driver accepted --kind gadget" "${swiftpm[@]}" --kind gadget --name Acme
  cmp -s Package.swift "$copy/Package.swift" && [ ! -e "$copy/Sources/Drivers/9livesProxy" ] || die "a refused new-driver changed the package"

  # One driver of each kind: kind, --name, the target it makes, its YAML name.
  local made=("proxy Acme AcmeProxy acme" "runtime Nomad NomadRuntime nomad" "sessions Evolution EvolutionProvider evolution"
              "store RedisCluster RedisClusterStore redis-cluster")
  local entry kind name target yaml
  for entry in "${made[@]}"; do
    read -r kind name target yaml <<<"$entry"
    "${swiftpm[@]}" --kind "$kind" --name "$name" >"$dir/new-driver-$name.log" 2>&1 \
      || { cat "$dir/new-driver-$name.log" >&2; die "new-driver --kind $kind --name $name failed"; }
    grep -q "Next:" "$dir/new-driver-$name.log" || { cat "$dir/new-driver-$name.log" >&2; die "new-driver printed no next steps"; }
    for file in "Sources/Drivers/$target/$target.swift" "Tests/${target}Tests/${target}ConformanceTests.swift"; do
      [ -f "$copy/$file" ] || die "new-driver did not create $file"
    done
    grep -q "driver(\"$target\")" "$copy/Package.swift" && grep -q "name: \"${target}Tests\"" "$copy/Package.swift" \
      && grep -q "$target.driver" "$copy/Sources/whago/Support/DriverRegistry+CompiledIn.swift" \
      || die "new-driver did not wire $target into Package.swift and the registry"
  done

  say "building the copy with the new drivers (its own targets only: the dependencies are already built)"
  swift build --scratch-path "$scratch" --package-path "$copy" --build-tests >"$dir/build.log" 2>&1 \
    || { grep -E "error:" "$dir/build.log" | sort -u | head -20 >&2; tail -20 "$dir/build.log" >&2; die "the package does not build after new-driver"; }
  local drivers
  drivers=$("$(swift build --scratch-path "$scratch" --package-path "$copy" --show-bin-path)/whago" drivers)
  for entry in "${made[@]}"; do
    read -r kind name target yaml <<<"$entry"
    grep -q "^  $yaml — " <<<"$drivers" || die "whago drivers does not list the new $kind driver $yaml"
    status=0
    swift test --skip-build --disable-xctest --scratch-path "$scratch" --package-path "$copy" --filter "${target}Tests" >"$dir/test-$name.log" 2>&1 || status=$?
    [ "$status" -ne 0 ] || { cat "$dir/test-$name.log" >&2; die "the $kind driver's conformance test passed, but the driver implements nothing"; }
    grep -q "driver '$yaml' does not implement" "$dir/test-$name.log" && grep -q "passes the .* conformance suite" "$dir/test-$name.log" \
      || { tail -40 "$dir/test-$name.log" >&2; die "the $kind driver's conformance test did not run into its not_implemented methods"; }
  done
  say "new-driver: a driver of each kind builds, is registered, and its conformance test runs and fails as it should"

  # The deployer's side of the kit: swift package check-config, strict, then with placeholders.
  local plugin=(swift package --scratch-path "$scratch" --package-path "$copy" check-config)
  refuses "environment variable 'DATAIMPULSE_LOGIN' is not set" "swift package check-config passed production.example.yaml without its variables" \
    env -u DATAIMPULSE_LOGIN -u WHAGO_DATABASE_URL "${plugin[@]}"
  output=$(env -u DATAIMPULSE_LOGIN -u WHAGO_DATABASE_URL "${plugin[@]}" --placeholders 2>&1) \
    || { echo "$output" >&2; die "swift package check-config --placeholders failed on Config/"; }
  grep -q "production.example.yaml: ok with 4 placeholders" <<<"$output" && grep -q "whago.yaml: ok (runtime=local" <<<"$output" \
    || { echo "$output" >&2; die "swift package check-config --placeholders did not check every file in Config/"; }
  say "swift package check-config --placeholders checks Config/ without secrets"
}
