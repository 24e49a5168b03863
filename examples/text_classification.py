"""PyTorch's text classification tutorial (EmbeddingBag over AG_NEWS) with ``import ember as torch``.

The tutorial's pipeline unchanged: basic_english tokens, a vocab built from the training iterator, a collate
function that concatenates token ids with offsets, EmbeddingBag + Linear, SGD with a StepLR schedule. Without
``--root`` pointing at a directory holding ``AG_NEWS/train.csv`` and ``test.csv`` (torchtext's layout; pass
``--download`` to fetch the real 120,000 articles), the program writes a small corpus in the same CSV format:
four topics whose sentences share function words and differ in their topic words.
"""
import argparse
import csv
import os
import random
import tempfile
import time

import ember as torch
from ember import nn
from ember.text.data.utils import get_tokenizer
from ember.text.datasets import AG_NEWS
from ember.text.vocab import build_vocab_from_iterator
from ember.utils.data import DataLoader
from ember.utils.data.dataset import random_split

TOPICS = {   # AG_NEWS labels: 1 World, 2 Sports, 3 Business, 4 Sci/Tech
    1: "minister election parliament border treaty embassy protest president war refugees summit sanctions",
    2: "match goal season coach league tournament striker championship injury olympic medal playoff",
    3: "shares profit market investors quarter earnings bank merger oil prices economy stocks",
    4: "software internet computer researchers space launch chip wireless scientists google data network",
}
FILLER = "the a of in to on and for with after as said new by at from its over".split()


def write_corpus(root, train_size=2000, test_size=400, seed=0):
    """Writes AG_NEWS-format train.csv / test.csv (label, title, description) under root/AG_NEWS."""
    rng = random.Random(seed)
    folder = os.path.join(root, "AG_NEWS")
    os.makedirs(folder, exist_ok=True)
    for split, size in (("train", train_size), ("test", test_size)):
        with open(os.path.join(folder, f"{split}.csv"), "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, quoting=csv.QUOTE_ALL)
            for _ in range(size):
                label = rng.randint(1, 4)
                words = TOPICS[label].split()
                other = TOPICS[rng.randint(1, 4)].split()   # noise: a word from any topic
                title = " ".join(rng.choice(words if rng.random() < 0.6 else FILLER) for _ in range(5)).capitalize()
                body = " ".join(rng.choice(words) if rng.random() < 0.3 else rng.choice(FILLER + other)
                                for _ in range(20)) + "."
                writer.writerow([label, title, body])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", help="directory with AG_NEWS/train.csv and test.csv (default: a generated corpus)")
    parser.add_argument("--download", action="store_true", help="download the real AG_NEWS into --root")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    if args.root:
        run(args.root, args)
    else:
        with tempfile.TemporaryDirectory(prefix="ag_news_") as root:
            run(root, args)


def run(root, args):
    torch.manual_seed(0)
    if not args.download and not os.path.isfile(os.path.join(root, "AG_NEWS", "train.csv")):
        write_corpus(root)

    tokenizer = get_tokenizer("basic_english")
    train_iter = AG_NEWS(root=root, split="train")

    def yield_tokens(data_iter):
        for _, text in data_iter:
            yield tokenizer(text)

    vocab = build_vocab_from_iterator(yield_tokens(train_iter), specials=["<unk>"])
    vocab.set_default_index(vocab["<unk>"])

    def text_pipeline(x):
        return vocab(tokenizer(x))

    def label_pipeline(x):
        return int(x) - 1

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        return label_list, torch.cat(text_list), offsets

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    num_class = len({label for label, _ in train_iter})
    model = TextClassificationModel(len(vocab), 64, num_class)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)

    def train(dataloader):
        model.train()
        for label, text, offsets in dataloader:
            optimizer.zero_grad()
            loss = criterion(model(text, offsets), label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()

    def evaluate(dataloader):
        model.eval()
        correct, count = 0, 0
        with torch.no_grad():
            for label, text, offsets in dataloader:
                correct += (model(text, offsets).argmax(1) == label).sum().item()
                count += label.size(0)
        return correct / count

    train_dataset = list(AG_NEWS(root=root, split="train"))
    test_dataset = list(AG_NEWS(root=root, split="test"))
    num_train = int(len(train_dataset) * 0.95)
    split_train, split_valid = random_split(train_dataset, [num_train, len(train_dataset) - num_train])
    train_loader = DataLoader(split_train, batch_size=64, shuffle=True, collate_fn=collate_batch)
    valid_loader = DataLoader(split_valid, batch_size=64, shuffle=True, collate_fn=collate_batch)
    test_loader = DataLoader(test_dataset, batch_size=64, shuffle=True, collate_fn=collate_batch)
    best = None
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        train(train_loader)
        accuracy = evaluate(valid_loader)
        if best is not None and best > accuracy:
            scheduler.step()
        else:
            best = accuracy
        print(f"| end of epoch {epoch:3d} | time: {time.time() - start:5.2f}s | valid accuracy {accuracy:8.3f} ")
    print(f"test accuracy {evaluate(test_loader):8.3f}")


if __name__ == "__main__":
    main()
