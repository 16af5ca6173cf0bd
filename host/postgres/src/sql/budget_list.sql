SELECT period, spend_limit FROM budgets
