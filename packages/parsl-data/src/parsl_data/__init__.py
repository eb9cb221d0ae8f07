"""Parsl data staging beyond local files: Globus, HTTP/HTTPS and FTP"""
