# Asks for 64 GB in double: MemoryError, double scores 0, the rest full.
# %%
def double(x):
    hog = np.ones((1 << 33,))
    return hog[:x.size].reshape(x.shape) * x * 2
