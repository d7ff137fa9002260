"""meso-inventory: ampoule traceability and stock for mesotherapy clinics."""
