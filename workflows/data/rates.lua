-- VAT and SD rates by category, FY 2019-20 to 2025-26: each row applies
-- from `from` to `to` (inclusive; `to` nil while in force), in percent,
-- with its source. `verified = false` marks a row whose rate or date could
-- not be confirmed against the SRO or Act text itself (secondary sources
-- only): the checks use it, the report's readers should confirm it.
-- Background: shared/reference/bangladesh-erp.md and the README.
return {
  { category = "standard", vat_rate = 15, sd_rate = 0, from = "2019-07-01", verified = true,
    source = "VAT & SD Act 2012, s. 15 (standard rate), in force from 1 July 2019 (Finance Act 2019)" },
  -- "restaurant": a non-AC restaurant (an AC one paid 10% until 30 June
  -- 2022, 5% after: the FY 2022-23 budget, Prothom Alo, 9 June 2022);
  -- restaurants of 3- to 5-star hotels pay 15% throughout.
  { category = "restaurant", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-01-08", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (reduced rate, restaurants); press reports of the 2022 budget" },
  { category = "restaurant", vat_rate = 15, sd_rate = 0, from = "2025-01-09", to = "2025-01-21", verified = false,
    source = "VAT & SD (Amendment) Ordinance 2025 of 9 January 2025 (raised all restaurants from 5% to 15%)" },
  { category = "restaurant", vat_rate = 5, sd_rate = 0, from = "2025-01-22", verified = false,
    source = "NBR notifications of 22 January 2025 rolling the ordinance back (The Financial Express, "
      .. "'NBR revises VAT rates across sectors'); the SRO numbers and whether it is retroactive are unconfirmed" },
  { category = "hotel-non-ac", vat_rate = 7.5, sd_rate = 0, from = "2019-07-01", to = "2025-01-08", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (reduced rate); 7.5% as the earlier rate in press reports of January 2025" },
  { category = "hotel-non-ac", vat_rate = 15, sd_rate = 0, from = "2025-01-09", to = "2025-01-21", verified = false,
    source = "VAT & SD (Amendment) Ordinance 2025 of 9 January 2025" },
  { category = "hotel-non-ac", vat_rate = 10, sd_rate = 0, from = "2025-01-22", verified = false,
    source = "NBR notifications of 22 January 2025 (non-AC hotels 15% -> 10%; press reports); SRO numbers unconfirmed" },
  { category = "it-services", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-06-30", verified = false,
    source = "VAT & SD Act 2012, Third Schedule (IT-enabled services); rate from secondary sources only" },
  { category = "it-services", vat_rate = 7.5, sd_rate = 0, from = "2025-07-01", verified = false,
    source = "Finance Act 2025 (budget FY 2025-26), as reported; the SRO could not be confirmed" },
  { category = "soft-drinks", vat_rate = 15, sd_rate = 25, from = "2019-07-01", verified = false,
    source = "VAT & SD Act 2012, s. 15 (VAT) and Second Schedule (SD on soft drinks); SD rate unconfirmed" },
  { category = "export", vat_rate = 0, sd_rate = 0, from = "2019-07-01", verified = true,
    source = "VAT & SD Act 2012: exports are zero-rated (s. 21; the section number is unverified)" },
}
