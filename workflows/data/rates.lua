-- VAT and SD rates by category, FY 2019-20 to 2025-26: each row applies
-- from `from` to `to` (inclusive; `to` nil while in force), in percent,
-- with its source. `verified = false` marks a row whose rate or date could
-- not be confirmed against the SRO or Act text itself (secondary sources
-- only): the checks use it, the report's readers should confirm it.
-- Background: shared/reference/bangladesh-erp.md and the README.
return {
  { category = "standard", vat_rate = 15, sd_rate = 0, from = "2019-07-01", verified = true,
    source = "VAT & SD Act 2012, s. 15 (standard rate), in force from 1 July 2019 (Finance Act 2019)" },
  { category = "restaurant", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-01-08", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (reduced rate, restaurants); rate from practitioners' guides" },
  { category = "restaurant", vat_rate = 15, sd_rate = 0, from = "2025-01-09", verified = false,
    source = "VAT & SD (Amendment) Ordinance 2025 (9 January 2025); later partial roll-backs not confirmed" },
  { category = "hotel-non-ac", vat_rate = 10, sd_rate = 0, from = "2019-07-01", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (reduced rate); rate from secondary sources only" },
  { category = "it-services", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-06-30", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (IT-enabled services); rate from secondary sources only" },
  { category = "it-services", vat_rate = 7.5, sd_rate = 0, from = "2025-07-01", verified = false,
    source = "Finance Act 2025 (budget FY 2025-26), as reported; the SRO could not be confirmed" },
  { category = "soft-drinks", vat_rate = 15, sd_rate = 25, from = "2019-07-01", verified = false,
    source = "VAT & SD Act 2012, s. 15 (VAT) and Second Schedule (SD on soft drinks); SD rate unconfirmed" },
  { category = "export", vat_rate = 0, sd_rate = 0, from = "2019-07-01", verified = true,
    source = "VAT & SD Act 2012: exports are zero-rated (s. 21; the section number is unverified)" },
}
