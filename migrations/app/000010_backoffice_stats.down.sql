UPDATE carbon_reports
SET stats = stats - 'entries_by_module' - 'module_statuses' #- '{all,it_by_category}' #- '{validated,it_by_category}'
WHERE stats ? 'entries_by_module';
