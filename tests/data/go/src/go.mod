module benchhub.test/gobench

go 1.19
