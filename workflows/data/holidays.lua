-- Public holidays in Bangladesh that move a Mushak 9.1 due date (the
-- weekend, Friday and Saturday, is in bd.lua). Edit this list when the
-- government's yearly holiday notification comes out. Source: the Ministry
-- of Public Administration's public-holiday notifications (Gazette) for
-- 2024, 2025 and 2026. Fixed national days are certain; `verified = false`
-- marks the lunar holidays, whose dates follow the moon sighting and were
-- taken from the announced calendars.
return {
  { date = "2024-02-21", name = "Shaheed Day and International Mother Language Day", verified = true },
  { date = "2024-03-26", name = "Independence and National Day", verified = true },
  { date = "2024-04-14", name = "Bangla New Year (Pohela Boishakh)", verified = true },
  { date = "2024-05-01", name = "May Day", verified = true },
  { date = "2024-12-16", name = "Victory Day", verified = true },
  { date = "2024-12-25", name = "Christmas Day", verified = true },
  { date = "2025-02-21", name = "Shaheed Day and International Mother Language Day", verified = true },
  { date = "2025-03-26", name = "Independence and National Day", verified = true },
  { date = "2025-03-31", name = "Eid-ul-Fitr", verified = false },
  { date = "2025-04-14", name = "Bangla New Year (Pohela Boishakh)", verified = true },
  { date = "2025-05-01", name = "May Day", verified = true },
  { date = "2025-06-07", name = "Eid-ul-Azha", verified = false },
  { date = "2025-08-05", name = "July Mass Uprising Day", verified = true },
  { date = "2025-12-16", name = "Victory Day", verified = true },
  { date = "2025-12-25", name = "Christmas Day", verified = true },
  { date = "2026-02-21", name = "Shaheed Day and International Mother Language Day", verified = true },
  { date = "2026-03-26", name = "Independence and National Day", verified = true },
  { date = "2026-04-14", name = "Bangla New Year (Pohela Boishakh)", verified = true },
  { date = "2026-05-01", name = "May Day", verified = true },
  { date = "2026-08-05", name = "July Mass Uprising Day", verified = true },
  { date = "2026-12-16", name = "Victory Day", verified = true },
  { date = "2026-12-25", name = "Christmas Day", verified = true },
}
