"""Wall thickness (API 570): the assessment of one location and the pages that show it."""
