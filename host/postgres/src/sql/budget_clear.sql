DELETE FROM budgets WHERE period = $1
