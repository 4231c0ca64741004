"""CRM simulators, one module per CRM, each speaking that CRM's wire format."""
