module benchhub.example/strings

go 1.19
