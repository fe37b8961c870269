"""What a grading run writes for people to read.

    results         grades.csv, grades.json and each student's feedback pages
    class_report    report.html and report.json: how the class did (figures in class_figures)
    similarity      the similarity screening: similarity.csv, .json and .html
    lms_exports     grades in the import formats of Canvas, Moodle and other LMSs
    rendering       the Jinja2 templates (templates/) that every page and text comes from
"""
