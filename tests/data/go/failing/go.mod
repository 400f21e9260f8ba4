module benchhub.test/failing

go 1.19
