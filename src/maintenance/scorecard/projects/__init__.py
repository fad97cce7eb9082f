"""The year's key projects (重点项目) with their milestones, owners, due dates and slippage."""
