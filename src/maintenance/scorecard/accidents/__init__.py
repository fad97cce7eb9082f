"""The accident register: equipment accidents and incidents, their corrective actions (each can
raise a work order), and the accident rate against last year."""
