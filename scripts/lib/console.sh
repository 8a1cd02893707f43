# console_test — the web console in a real browser: headless Chromium driven by Selenium
# (Debian's chromium, chromium-driver, python3-selenium; Debian's /usr/bin/python3, which sees
# them) against a real `whago serve` on the embedded default, 127.0.0.1 only. Screenshots of
# every step are kept in .build/console-test/ for people to look at.

console_test() {
  local output="$PWD/.build/console-test"
  say "testing the web console in headless Chromium (screenshots: $output)"
  WHAGO_BIN="$(swift build --show-bin-path)/whago" WHAGO_CONSOLE_OUTPUT="$output" \
    /usr/bin/python3 Tests/Console/test_console.py || die "the console test failed (screenshots and whago's log in $output)"
}
