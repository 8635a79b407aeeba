# workflows/finance.lua: the README's first command, on a fresh project
# without any coding-agent CLI: real compliance checks, the Mushak 9.1
# figures, a report that equals an independent recomputation
# (recompute.lua, written without bd.lua) and finds every planted mistake
# and nothing else, --strict.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C
here="$AF_SOURCE_DIR/tests/e2e/013-finance"
cp -r "$AF_SOURCE_DIR/workflows" "$AF_SOURCE_DIR/agents" .
git init -q .

# What a report says, in the recomputation's terms: the summary lines, the
# Mushak 9.1 rows and "document|field" per violation, sorted.
figures() {
	printf '%s\n' "$1" | grep '^- '
	printf '%s\n' "$1" | grep -E '^\| (20[0-9][0-9]-|issue date|\*\*total)'
	printf '%s\n' "$1" | sed -n '/^## Violations/,/^## Agents/p' | grep -E '^\| [a-z]+ [A-Z0-9]' |
		awk -F' \\| ' '{ sub(/^\| /, "", $1); print $1 "|" $3 }' | sort
}
recomputed() {
	"$AGENTFLOW" "$here/recompute.lua" "$1" workflows/data/rates.lua workflows/data/holidays.lua >recomputed.txt ||
		fail "recompute.lua ran"
	grep '^[-|]' recomputed.txt
	grep -v '^[-|]' recomputed.txt | sort
}

run "$AGENTFLOW" workflows/finance.lua
expect_rc "finance.lua runs to the end" 0
expect_has "and prints the compliance report" "$OUT" "# Finance compliance report"
expect_has "with totals" "$OUT" "- Invoices: 320 (788 lines); purchase invoices: 60; credit and debit notes: 15"
expect_has "the table is the return as filed" "$OUT" "## Mushak 9.1 per month, as filed"
expect_lacks "not output VAT called VAT due" "$OUT" "VAT due"
expect_has "net payable per month" "$OUT" "| net payable | return due |"
expect_has "a due date on a Friday moves to Sunday" "$OUT" "| 2024-11-17 (15th: Friday) |"
expect_has "the December return is due in January" "$OUT" "| 2026-01-15 |"
expect_has "an invoice whose date does not read has its row" "$OUT" "| issue date unreadable | - |"
expect_has "every violation with document, number and field" "$OUT" \
	"| invoice 7 | 2024-25/000007 | lines[1].vat_poisha | is 135100;"
expect_has "a renumbered invoice is one finding" "$OUT" \
	"| invoice 160 | 2024-25/000165 | number | serial 165 breaks the sequence; it should be 160 (after #159) |"
expect_has "a reused number names both invoices" "$OUT" "serial 76 is already used by invoice #76"
expect_has "master data too" "$OUT" "| employee E007 |  | nid |"
expect_has "the language-model agents ran through plan" "$OUT" "1. business-logic-validator: planned"
expect_has "the report is saved" "$ERR" "finance report saved to $SANDBOX/.agentflow/finance-report-"
expect_eq "as the file it names" "$(printf '%s\n' "$OUT")" "$(cat "$SANDBOX"/.agentflow/finance-report-*.md)"

expect_eq "every figure and finding equals the independent recomputation" \
	"$(recomputed workflows/data)" "$(figures "$OUT")"
expect_eq "the findings are the planted mistakes, no more, no fewer" \
	"$(jq -r '.[] | .ref + "|" + .field' workflows/data/planted.json | sort)" \
	"$(figures "$OUT" | grep -v '^[-|]')"
expect_eq "one finding per planted mistake" "$(jq length workflows/data/planted.json)" \
	"$(figures "$OUT" | grep -vc '^[-|]')"

# The generator is deterministic: the committed data is what it writes.
mkdir -p regen/data regen/lib && cp workflows/data/generate.lua workflows/data/rates.lua regen/data/
cp workflows/lib/bd.lua regen/lib/
run "$AGENTFLOW" regen/data/generate.lua
expect_rc "the generator runs" 0
for f in invoices purchases notes vds company customers suppliers employees planted; do
	cmp -s workflows/data/$f.json regen/data/$f.json && pass "it writes the same $f.json" ||
		fail "it writes the same $f.json"
done

# Changed data: both sides must still agree (a sale late on 30 June UTC,
# a rate written wrong, a number out of sequence, a purchase's VAT).
cp -r workflows/data changed
jq -c '.[2].issued_at = "2025-06-30T19:00:00Z" | .[3].lines[0].vat_rate = 10 | .[5].number = "2024-25/000099"' \
	workflows/data/invoices.json >changed/invoices.json
jq -c '.[0].lines[0].vat_poisha += 7' workflows/data/purchases.json >changed/purchases.json
run "$AGENTFLOW" run workflows/finance.lua -- changed
expect_rc "finance.lua runs on changed data" 0
expect_eq "and still equals the recomputation" "$(recomputed changed)" "$(figures "$OUT")"
expect_has "a sale at 19:00 UTC on 30 June is on 1 July in Dhaka, FY 2025-26" "$OUT" \
	"| invoice 3 | 2024-25/000003 | number | fiscal year 2024-25 does not match the issue date 2025-07-01 (FY 2025-26) |"
expect_lacks "and its serial still counts in FY 2024-25" "$OUT" "| invoice 4 | 2024-25/000004 | number |"

run "$AGENTFLOW" run workflows/finance.lua -- --strict
expect_rc "--strict exits 1 on violations" 1
expect_has "saying how many" "$ERR" "54 compliance violations (--strict)"

mkdir clean
for f in invoices purchases notes vds customers suppliers employees; do printf '[]\n' >clean/$f.json; done
printf '{}\n' >clean/company.json
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
expect_has "from workflows/, the same report" "$OUT" "- Violations: 54"
jq -c '.[0].lines[0].vat_poisha += 1' data/invoices.json >data/invoices.new && mv data/invoices.new data/invoices.json
run "$AGENTFLOW" finance.lua
expect_has "a changed vat_poisha is seen from workflows/" "$OUT" "- Violations: 55"
cd ..
run "$AGENTFLOW" workflows/finance.lua
expect_has "as from the root" "$OUT" "- Violations: 55"

done_testing
