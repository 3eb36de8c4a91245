"""One module per source format. Each maps one raw row to one `Problem` and says which rows it recognises;
`darl.data.loaders` holds the registry that picks among them."""
