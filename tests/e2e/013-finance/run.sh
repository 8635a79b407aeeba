# workflows/finance.lua: the README's first command, on a fresh project
# without any coding-agent CLI: real compliance checks, a report, --strict.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain PATH=/usr/local/bin:/usr/bin:/bin
cp -r "$AF_SOURCE_DIR/workflows" "$AF_SOURCE_DIR/agents" .
git init -q .

run "$AGENTFLOW" workflows/finance.lua
expect_rc "finance.lua runs to the end" 0
expect_has "and prints the compliance report" "$OUT" "# Finance compliance report"
expect_has "with totals" "$OUT" "- Invoices: 320 (957 lines)"
expect_has "VAT due per month in BDT, with the return's due date" "$OUT" "| 2025-12 | 2025-26 | ৳ "
expect_has "the December return is due in January" "$OUT" "| 2026-01-15 |"
expect_has "every violation with invoice and field" "$OUT" "| 2024-25/000007 | lines[1].vat_poisha | is 570100;"
expect_has "master data too" "$OUT" "| employee E007 | nid |"
expect_has "the language-model agents ran through plan" "$OUT" "1. business-logic-validator: planned"
expect_has "the report is saved" "$ERR" "finance report saved to $SANDBOX/.agentflow/finance-report-"
expect_eq "as the file it names" "$(printf '%s\n' "$OUT")" "$(cat "$SANDBOX"/.agentflow/finance-report-*.md)"

run "$AGENTFLOW" run workflows/finance.lua -- --strict
expect_rc "--strict exits 1 on violations" 1
expect_has "saying how many" "$ERR" "29 compliance violations (--strict)"

mkdir clean
printf '[]\n' >clean/invoices.json
printf '[]\n' >clean/customers.json
printf '[]\n' >clean/suppliers.json
printf '[]\n' >clean/employees.json
run "$AGENTFLOW" run workflows/finance.lua -- clean --strict
expect_rc "--strict with clean data exits 0" 0
expect_has "and says so" "$OUT" "- Violations: 0"

run "$AGENTFLOW" run workflows/finance.lua -- nowhere
expect_rc "a missing data directory is an error" 65
expect_has "naming the file" "$ERR" "nowhere/invoices.json: no such file"

# From workflows/, the data is ./data/...: a change there must miss, and
# give what the same data gives from the root (it was a stale hit).
cd workflows
run "$AGENTFLOW" finance.lua
expect_has "from workflows/, the same report" "$OUT" "- Violations: 29"
jq -c '.[0].lines[0].vat_poisha += 1' data/invoices.json >data/invoices.new && mv data/invoices.new data/invoices.json
run "$AGENTFLOW" finance.lua
expect_has "a changed vat_poisha is seen from workflows/" "$OUT" "- Violations: 30"
cd ..
run "$AGENTFLOW" workflows/finance.lua
expect_has "as from the root" "$OUT" "- Violations: 30"

done_testing
