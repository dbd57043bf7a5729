module fcgiscope

go 1.26
