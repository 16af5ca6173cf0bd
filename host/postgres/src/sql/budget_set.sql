INSERT INTO budgets (period, spend_limit, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (period) DO UPDATE SET spend_limit = excluded.spend_limit,
    updated_at = excluded.updated_at
