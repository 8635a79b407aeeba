-- VAT and SD rates by category, with the dates they apply from and to
-- (inclusive; `to` nil while in force). Percent. Sources: the VAT & SD
-- Act 2012 (standard 15% since 1 July 2019), the Third Schedule's reduced
-- rates and the January 2025 amendment ordinance; rows marked unverified
-- rest on secondary sources (see shared/reference/bangladesh-erp.md).
return {
  { category = "standard", vat_rate = 15, sd_rate = 0, from = "2019-07-01" },
  { category = "restaurant", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-01-08" },
  -- unverified: the 2025 ordinance raised non-AC restaurants' rate
  { category = "restaurant", vat_rate = 15, sd_rate = 0, from = "2025-01-09" },
  { category = "hotel-non-ac", vat_rate = 10, sd_rate = 0, from = "2019-07-01" }, -- unverified
  { category = "it-services", vat_rate = 5, sd_rate = 0, from = "2019-07-01", to = "2025-06-30" },
  { category = "it-services", vat_rate = 7.5, sd_rate = 0, from = "2025-07-01" }, -- unverified
  { category = "soft-drinks", vat_rate = 15, sd_rate = 25, from = "2019-07-01" }, -- unverified SD
  { category = "export", vat_rate = 0, sd_rate = 0, from = "2019-07-01" },
}
